package mgm.loaders.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** MGM's prompt-to-ids step for prompts that contain {@code <image>} (mm_utils.tokenizer_image_token). */
public final class ImagePrompt {
    /** The id that marks where an image's features are spliced in (IMAGE_TOKEN_INDEX). */
    public static final int IMAGE_TOKEN_INDEX = -200;
    public static final String IMAGE_TOKEN = "<image>";

    private ImagePrompt() {}

    /**
     * Splits the prompt on {@code <image>}, encodes each chunk on its own with special tokens (so
     * each gets the tokenizer's BOS and prefix-space handling), keeps the first chunk's BOS, drops the
     * first token of every later chunk when the first chunk started with BOS, and joins the chunks
     * with {@link #IMAGE_TOKEN_INDEX}.
     */
    public static int[] tokenize(Tokenizer tokenizer, String prompt) {
        List<int[]> chunks = new ArrayList<>();
        for (String part : splitLiteral(prompt, IMAGE_TOKEN)) {
            chunks.add(tokenizer.encode(part, true));
        }
        int bos = tokenizer.specialTokens().bosId();
        IntList out = new IntList();
        int offset = 0;
        if (!chunks.isEmpty() && chunks.get(0).length > 0 && bos >= 0 && chunks.get(0)[0] == bos) {
            offset = 1;
            out.add(chunks.get(0)[0]);
        }
        for (int i = 0; i < chunks.size(); i++) {
            if (i > 0) {
                out.add(IMAGE_TOKEN_INDEX);
            }
            int[] c = chunks.get(i);
            out.addAll(c, Math.min(offset, c.length), c.length);
        }
        return out.toArray();
    }

    /**
     * MGM's CLI rewrite for prompts with two or more images: each {@code <image>} becomes
     * {@code Image k:<image>} (k from 1); a prompt with fewer images is returned unchanged.
     */
    public static String numberImages(String prompt) {
        List<String> parts = splitLiteral(prompt, IMAGE_TOKEN);
        if (parts.size() - 1 < 2) {
            return prompt;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            sb.append(parts.get(i));
            if (i < parts.size() - 1) {
                sb.append("Image ").append(i + 1).append(':').append(IMAGE_TOKEN);
            }
        }
        return sb.toString();
    }

    /** Python's str.split(sep): all parts, empty ones included. */
    static List<String> splitLiteral(String s, String sep) {
        List<String> parts = new ArrayList<>();
        int from = 0;
        int at;
        while ((at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }
}
