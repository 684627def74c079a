package mgm.loaders.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer.json "post_processor", applied only when special tokens are requested. For one
 * sequence it is a fixed prefix and suffix of ids around the encoded text.
 */
record PostProcessor(int[] prefix, int[] suffix) {
    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

    int[] apply(int[] ids) {
        if (prefix.length == 0 && suffix.length == 0) {
            return ids;
        }
        int[] out = new int[prefix.length + ids.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
        return out;
    }

    static PostProcessor fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return NONE;
        }
        String type = Json.text(node, "type");
        switch (type) {
            case "ByteLevel" -> {
                return NONE; // only trims offsets; ids are unchanged
            }
            case "Sequence" -> {
                List<Integer> pre = new ArrayList<>();
                List<Integer> suf = new ArrayList<>();
                for (JsonNode n : Json.array(node, "processors")) {
                    PostProcessor p = fromJson(n);
                    // each processor wraps the result of the previous one
                    List<Integer> newPre = new ArrayList<>();
                    for (int id : p.prefix) {
                        newPre.add(id);
                    }
                    newPre.addAll(pre);
                    pre = newPre;
                    for (int id : p.suffix) {
                        suf.add(id);
                    }
                }
                return new PostProcessor(pre.stream().mapToInt(Integer::intValue).toArray(),
                        suf.stream().mapToInt(Integer::intValue).toArray());
            }
            case "TemplateProcessing" -> {
                return template(node);
            }
            case "BertProcessing", "RobertaProcessing" -> {
                JsonNode cls = Json.array(node, "cls");
                JsonNode sep = Json.array(node, "sep");
                return new PostProcessor(new int[] {cls.get(1).asInt()}, new int[] {sep.get(1).asInt()});
            }
            default -> throw new IllegalArgumentException("post_processor type " + OnigRegex.quote(type)
                    + " is not supported (supported: TemplateProcessing, ByteLevel, Sequence, BertProcessing,"
                    + " RobertaProcessing)");
        }
    }

    private static PostProcessor template(JsonNode node) {
        Map<String, int[]> specials = new HashMap<>();
        JsonNode st = node.get("special_tokens");
        if (st != null && st.isObject()) {
            var it = st.properties().iterator();
            while (it.hasNext()) {
                var e = it.next();
                JsonNode ids = Json.array(e.getValue(), "ids");
                int[] a = new int[ids.size()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = ids.get(i).asInt();
                }
                specials.put(e.getKey(), a);
            }
        }
        List<Integer> pre = new ArrayList<>();
        List<Integer> suf = new ArrayList<>();
        boolean seenSequence = false;
        for (JsonNode piece : Json.array(node, "single")) {
            if (piece.has("Sequence")) {
                if (seenSequence) {
                    throw new IllegalArgumentException("TemplateProcessing single has two sequences");
                }
                seenSequence = true;
            } else if (piece.has("SpecialToken")) {
                String id = Json.text(piece.get("SpecialToken"), "id");
                int[] ids = specials.get(id);
                if (ids == null) {
                    throw new IllegalArgumentException("TemplateProcessing uses special token " + OnigRegex.quote(id)
                            + " that its special_tokens does not define");
                }
                for (int i : ids) {
                    (seenSequence ? suf : pre).add(i);
                }
            } else {
                throw new IllegalArgumentException("TemplateProcessing piece " + piece + " is neither Sequence nor SpecialToken");
            }
        }
        return new PostProcessor(pre.stream().mapToInt(Integer::intValue).toArray(),
                suf.stream().mapToInt(Integer::intValue).toArray());
    }
}
