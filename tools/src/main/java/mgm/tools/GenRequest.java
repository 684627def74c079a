package mgm.tools;

/**
 * MGM's {@code --gen}: the user text gets {@code " <GEN>"} appended, and the model answers with an
 * image-generation prompt between {@code <h>} and {@code </h>}, which MGM hands to SDXL.
 */
final class GenRequest {
    static final String MARKER = " <GEN>";

    private GenRequest() {}

    /** The text between the last {@code <h>...</h>} pair (MGM: {@code split("</h>")[-2].split("<h>")[-1]}), or null. */
    static String imagePrompt(String output) {
        if (!output.contains("<h>") || !output.contains("</h>")) {
            return null;
        }
        String[] parts = output.split("</h>", -1);
        String beforeLastClose = parts[parts.length - 2];
        String[] opens = beforeLastClose.split("<h>", -1);
        return opens[opens.length - 1];
    }

    /** What to tell the user after the answer. */
    static String report(String output) {
        String prompt = imagePrompt(output);
        if (prompt == null) {
            return "gen: the answer has no image-generation prompt (<h>...</h>); no image was generated";
        }
        return "gen: image-generation prompt: \"" + prompt + "\" (mgm-java bundles no diffusion model, so no image "
                + "is generated; MGM would pass this prompt to Stable Diffusion XL)";
    }
}
