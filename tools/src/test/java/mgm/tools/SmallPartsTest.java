package mgm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import mgm.loaders.chat.ConversationTemplates;
import org.junit.jupiter.api.Test;

/** The CLI's small pure helpers, against hand-worked expectations. */
class SmallPartsTest {

    @Test
    void shortUuidIsBase57MostSignificantFirstPaddedTo22() {
        assertEquals("2".repeat(22), ShortUuid.encode(BigInteger.ZERO));
        // 57 = 1 * 57 + 0: digits "3" (1) then "2" (0), padded with the alphabet's first character.
        assertEquals("2".repeat(20) + "32", ShortUuid.encode(BigInteger.valueOf(57)));
        assertEquals("2".repeat(21) + "z", ShortUuid.encode(BigInteger.valueOf(56)));
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String id = ShortUuid.random();
            assertEquals(22, id.length());
            assertTrue(id.chars().allMatch(c -> ShortUuid.ALPHABET.indexOf(c) >= 0), id);
            assertTrue(seen.add(id), "ids repeat: " + id);
        }
    }

    @Test
    void genPromptIsTheTextBetweenTheLastTagPair() {
        // Python: outputs.split("</h>")[-2].split("<h>")[-1]
        assertEquals("b", GenRequest.imagePrompt("foo <h>a</h> bar <h>b</h> end"));
        assertEquals("x", GenRequest.imagePrompt("<h>x</h>"));
        assertEquals(" a cat ", GenRequest.imagePrompt("Sure. <h> a cat </h>"));
        assertNull(GenRequest.imagePrompt("no tags here"));
        assertNull(GenRequest.imagePrompt("only <h> an opening"));
        assertTrue(GenRequest.report("x <h>sunset</h>").contains("\"sunset\""));
        assertTrue(GenRequest.report("nothing").contains("no image-generation prompt"));
    }

    @Test
    void trimmedStreamPrintsTheStrippedTextPieceByPiece() {
        TrimmedStream s = new TrimmedStream();
        StringBuilder shown = new StringBuilder();
        for (String piece : List.of(" ", "  Hello", " ", "world", "  ", "\n", "again", " \n ")) {
            shown.append(s.push(piece));
        }
        assertEquals("Hello world  \nagain", shown.toString());
        assertEquals("", new TrimmedStream().push("   "));
    }

    @Test
    void sizesParseWithBinarySuffixes() {
        assertEquals(1234, ModelOptions.parseSize("1234"));
        assertEquals(512L << 10, ModelOptions.parseSize("512k"));
        assertEquals(3L << 30, ModelOptions.parseSize("3G"));
        assertEquals((long) (1.5 * (1L << 20)), ModelOptions.parseSize("1.5m"));
        MgmRun.CommandFailure f = assertThrows(MgmRun.CommandFailure.class, () -> ModelOptions.parseSize("lots"));
        assertEquals(MgmRun.EXIT_USAGE, f.exitCode);
    }

    @Test
    void rolesAreShownWithoutTemplateMarkup() {
        assertEquals("USER", Templates.displayRole(ConversationTemplates.get("vicuna_v1"), false));
        assertEquals("ASSISTANT", Templates.displayRole(ConversationTemplates.get("vicuna_v1"), true));
        assertEquals("user", Templates.displayRole(ConversationTemplates.get("llama_3"), false));
        assertEquals("assistant", Templates.displayRole(ConversationTemplates.get("llama_3"), true));
        assertEquals("user", Templates.displayRole(ConversationTemplates.get("chatml_direct"), false));
        assertEquals("assistant", Templates.displayRole(ConversationTemplates.get("chatml_direct"), true));
        assertEquals("model", Templates.displayRole(ConversationTemplates.get("gemma"), true));
    }

    @Test
    void userTextFollowsMgmsCli() {
        assertEquals("<image>\nWhat is it?", Chat.userText("What is it?", 1, true, false));
        assertEquals("Image 1:<image>\nImage 2:<image>\nCompare. <GEN>", Chat.userText("Compare.", 2, true, true));
        assertEquals("And then?", Chat.userText("And then?", 2, false, false), "images go in the first turn only");
        assertEquals("hello <GEN>", Chat.userText("hello", 0, true, true));
    }

    @Test
    void durationsReadNaturally() {
        assertEquals("3.2s", ProgressBar.seconds(3.24));
        assertEquals("4m05s", ProgressBar.seconds(245));
        assertEquals("1h02m", ProgressBar.seconds(3725));
    }
}
