package mgm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalQuestionsTest {

    @Test
    void readsIdsOfEitherTypeAndOptionalImages(@TempDir Path tmp) throws Exception {
        Path q = tmp.resolve("q.jsonl");
        Files.writeString(q, """
                {"question_id": 7, "image": "a.jpg", "text": "What?", "category": "x"}

                {"question_id": "7", "text": "Text only"}
                """);
        List<EvalQuestions.Question> qs = EvalQuestions.read(q);
        assertEquals(2, qs.size());
        assertEquals("7", qs.get(0).key());
        assertEquals("\"7\"", qs.get(1).key(), "7 and \"7\" are different ids, as in Python");
        assertEquals("a.jpg", qs.get(0).image());
        assertEquals(null, qs.get(1).image());
        assertEquals(3, qs.get(1).line());
    }

    @Test
    void badQuestionFilesNameTheLine(@TempDir Path tmp) throws Exception {
        Path q = tmp.resolve("q.jsonl");
        Files.writeString(q, "{\"question_id\": 1, \"text\": \"a\"}\n{\"question_id\": 1, \"text\": \"b\"}\n");
        MgmRun.CommandFailure f = assertThrows(MgmRun.CommandFailure.class, () -> EvalQuestions.read(q));
        assertEquals(3, f.exitCode);
        assertTrue(f.getMessage().contains("line 2") && f.getMessage().contains("twice"), f.getMessage());
        Files.writeString(q, "{\"question_id\": 1}\n");
        assertTrue(assertThrows(MgmRun.CommandFailure.class, () -> EvalQuestions.read(q)).getMessage().contains("\"text\""));
        Files.writeString(q, "[1, 2]\n");
        assertTrue(assertThrows(MgmRun.CommandFailure.class, () -> EvalQuestions.read(q)).getMessage().contains("JSON object"));
        assertTrue(assertThrows(MgmRun.CommandFailure.class, () -> EvalQuestions.read(tmp.resolve("none.jsonl")))
                .getMessage().contains("does not exist"));
    }

    @Test
    void chunksAsMgmGetChunk() {
        List<EvalQuestions.Question> all = new ArrayList<>();
        IntStream.range(0, 10).forEach(i -> all.add(new EvalQuestions.Question(
                com.fasterxml.jackson.databind.node.IntNode.valueOf(i), "t", null, i + 1)));
        // math.ceil(10 / 3) = 4 -> [0..4), [4..8), [8..10)
        assertEquals(List.of("0", "1", "2", "3"), keys(EvalQuestions.chunk(all, 3, 0)));
        assertEquals(List.of("4", "5", "6", "7"), keys(EvalQuestions.chunk(all, 3, 1)));
        assertEquals(List.of("8", "9"), keys(EvalQuestions.chunk(all, 3, 2)));
        assertEquals(10, EvalQuestions.chunk(all, 1, 0).size());
        // 10 items in 4 chunks of 3: the fourth has 1, a fifth would be empty
        assertEquals(List.of("9"), keys(EvalQuestions.chunk(all, 4, 3)));
    }

    @Test
    void aPartialLastAnswerLineIsDroppedBeforeResuming(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("a.jsonl");
        assertEquals(Set.of(), EvalQuestions.answeredIds(a), "no file: nothing answered");
        Files.writeString(a, "{\"question_id\": 1, \"text\": \"x\"}\n{\"question_id\": \"b\", \"text\": \"y\"}\n{\"question_id\": 3, \"te");
        assertEquals(Set.of("1", "\"b\""), EvalQuestions.answeredIds(a));
        assertEquals("{\"question_id\": 1, \"text\": \"x\"}\n{\"question_id\": \"b\", \"text\": \"y\"}\n", Files.readString(a));
        Files.writeString(a, "{\"question_id\": 1");
        assertEquals(Set.of(), EvalQuestions.answeredIds(a));
        assertEquals("", Files.readString(a));
    }

    private static List<String> keys(List<EvalQuestions.Question> qs) {
        return qs.stream().map(EvalQuestions.Question::key).toList();
    }
}
