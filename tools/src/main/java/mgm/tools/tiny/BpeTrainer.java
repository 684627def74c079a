package mgm.tools.tiny;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A plain byte-pair-encoding trainer: starting from single symbols, repeatedly merges the most
 * frequent adjacent pair (counted over pieces weighted by how often each piece occurs) until the
 * wanted number of merges is reached or no pair occurs twice. Pieces never merge across each
 * other, so merges stay inside words as SentencePiece's and tiktoken's do. Ties go to the
 * lexicographically smallest pair, so training is deterministic.
 */
final class BpeTrainer {
    /** The result: merges in rank order, and every initial symbol with its count. */
    record Result(List<String[]> merges, Map<String, Long> symbolCounts) {}

    private BpeTrainer() {}

    /** @param pieces each piece as its initial symbols, with its number of occurrences */
    static Result train(Map<List<String>, Long> pieces, int maxMerges) {
        List<List<String>> words = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        Map<String, Long> symbols = new TreeMap<>();
        for (Map.Entry<List<String>, Long> e : pieces.entrySet()) {
            words.add(new ArrayList<>(e.getKey()));
            counts.add(e.getValue());
            for (String s : e.getKey()) {
                symbols.merge(s, e.getValue(), Long::sum);
            }
        }
        List<String[]> merges = new ArrayList<>();
        while (merges.size() < maxMerges) {
            Map<String, Long> pairCounts = new HashMap<>();
            Map<String, String[]> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<String> word = words.get(w);
                for (int i = 0; i + 1 < word.size(); i++) {
                    String key = word.get(i) + '\u0000' + word.get(i + 1);
                    pairCounts.merge(key, counts.get(w), Long::sum);
                    pairs.putIfAbsent(key, new String[] {word.get(i), word.get(i + 1)});
                }
            }
            String best = null;
            long bestCount = 1;
            for (Map.Entry<String, Long> e : pairCounts.entrySet()) {
                long c = e.getValue();
                if (c > bestCount || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best == null) {
                break;
            }
            String[] pair = pairs.get(best);
            merges.add(pair);
            String joined = pair[0] + pair[1];
            for (List<String> word : words) {
                for (int i = 0; i + 1 < word.size(); i++) {
                    if (word.get(i).equals(pair[0]) && word.get(i + 1).equals(pair[1])) {
                        word.set(i, joined);
                        word.remove(i + 1);
                    }
                }
            }
        }
        return new Result(merges, new LinkedHashMap<>(symbols));
    }
}
