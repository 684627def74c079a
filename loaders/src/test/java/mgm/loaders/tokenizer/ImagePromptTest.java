package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.IntStream;
import mgm.loaders.chat.ConversationTemplates;
import org.junit.jupiter.api.Test;

/** MGM's tokenizer_image_token: chunks encoded on their own, the first chunk's BOS kept, -200 between. */
class ImagePromptTest {
    static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(IntStream::of).toArray();
    }

    static int[] drop(int[] a, int n) {
        return java.util.Arrays.copyOfRange(a, n, a.length);
    }

    @Test
    void vicunaPromptWithBos() {
        Tokenizer tok = SharedTokenizers.load("llama2");
        String prompt = ConversationTemplates.VICUNA_V1.newConversation().user("<image>\nWhat is this?").assistant(null).prompt();
        String[] parts = prompt.split("<image>", -1);
        int[] want = concat(tok.encode(parts[0], true), new int[] {-200}, drop(tok.encode(parts[1], true), 1));
        int[] got = ImagePrompt.tokenize(tok, prompt);
        assertArrayEquals(want, got);
        assertEquals(1, got[0]);
        assertEquals(1, IntStream.of(got).filter(i -> i == 1).count(), "only the first chunk keeps its BOS");
        // the text after the image starts a fresh chunk: "▁" prefix then the newline byte <0x0A> (13)
        int at = IntStream.range(0, got.length).filter(i -> got[i] == -200).findFirst().orElseThrow();
        assertEquals(29871, got[at + 1]);
        assertEquals(13, got[at + 2]);
    }

    @Test
    void leadingImageAndTwoImages() {
        Tokenizer tok = SharedTokenizers.load("llama2");
        int[] got = ImagePrompt.tokenize(tok, "<image>A<image>");
        // chunks "", "A", "": [1], [1, ▁A], [1] -> BOS, -200, ▁A, -200
        assertArrayEquals(new int[] {1, -200, tok.encode("A", false)[0], -200}, got);
    }

    @Test
    void noBosTokenizerKeepsEveryChunkWhole() {
        Tokenizer tok = SharedTokenizers.load("llama3"); // early snapshot: adds no BOS
        int[] got = ImagePrompt.tokenize(tok, "Look:<image>\nWhat?");
        assertArrayEquals(concat(tok.encode("Look:", true), new int[] {-200}, tok.encode("\nWhat?", true)), got);
        Tokenizer bos = SharedTokenizers.load("llama3_bos");
        int[] got2 = ImagePrompt.tokenize(bos, "Look:<image>\nWhat?");
        assertArrayEquals(concat(new int[] {128000}, tok.encode("Look:", false), new int[] {-200},
                tok.encode("\nWhat?", false)), got2);
    }

    @Test
    void numberImagesOnlyForTwoOrMore() {
        assertEquals("<image>\nQ", ImagePrompt.numberImages("<image>\nQ"));
        assertEquals("Image 1:<image>\nImage 2:<image>\nQ", ImagePrompt.numberImages("<image>\n<image>\nQ"));
        assertEquals(List.of("", "a", ""), ImagePrompt.splitLiteral("<image>a<image>", "<image>"));
    }
}
