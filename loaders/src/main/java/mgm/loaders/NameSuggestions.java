package mgm.loaders;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** The "no tensor named X; did you mean ..." error, with the closest names a checkpoint has. */
public final class NameSuggestions {
    private static final int MAX_SUGGESTIONS = 5;

    private NameSuggestions() {}

    /** The exception for a missing tensor {@code name} among {@code names}. */
    public static CheckpointException missingTensor(Path file, String name, Collection<String> names) {
        List<String> near = nearest(name, names);
        String hint = near.isEmpty() ? "" : "; did you mean " + String.join(", ", near.stream().map(n -> "'" + n + "'").toList()) + "?";
        return new CheckpointException(file, "no tensor named '" + name + "' (the checkpoint has " + names.size()
                + " tensors" + hint + ")");
    }

    /** Up to five names closest to {@code name}: suffix/prefix matches first, then by edit distance. */
    public static List<String> nearest(String name, Collection<String> names) {
        record Scored(String name, int score) {}
        int limit = Math.max(3, name.length() / 4);
        List<Scored> scored = new ArrayList<>();
        for (String n : names) {
            int score;
            if (n.endsWith(name) || name.endsWith(n) || n.startsWith(name) || name.startsWith(n)) {
                score = 0; // the same tensor under another prefix (e.g. "model." added or missing)
            } else {
                score = distance(name, n, limit);
            }
            if (score <= limit) {
                scored.add(new Scored(n, score));
            }
        }
        scored.sort(Comparator.comparingInt(Scored::score).thenComparing(Scored::name));
        return scored.stream().limit(MAX_SUGGESTIONS).map(Scored::name).toList();
    }

    /** Levenshtein distance, or {@code limit + 1} as soon as it must exceed {@code limit}. */
    static int distance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) > limit) {
            return limit + 1;
        }
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            int rowMin = cur[0];
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
                rowMin = Math.min(rowMin, cur[j]);
            }
            if (rowMin > limit) {
                return limit + 1;
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
