package mgm.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** One tokenizer shared by several threads gives the same ids as one thread. */
class ConcurrencyTest {
    static final String[] TEXTS = {"Hello world, this is a test.", "héllo 😀 日本語 ＦＵＬＬ ① ﬁ", "  spaces   and\ttabs\n",
        "<sep> user defined <sep>", "The quick brown fox jumps over the lazy dog. It's 2024!", "Ω ψ ж ש ع ह 한국어"};

    static void check(Tokenizer tok) throws Exception {
        List<int[]> want = new ArrayList<>();
        for (String t : TEXTS) {
            want.add(tok.encode(t, true));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<int[]>>> futures = new ArrayList<>();
            for (int th = 0; th < 4; th++) {
                futures.add(pool.submit(() -> {
                    List<int[]> got = new ArrayList<>();
                    for (int rep = 0; rep < 200; rep++) {
                        for (String t : TEXTS) {
                            got.add(tok.encode(t + rep, true));
                        }
                    }
                    return got;
                }));
            }
            for (Future<List<int[]>> f : futures) {
                List<int[]> got = f.get();
                for (int rep = 0; rep < 200; rep += 50) {
                    for (int i = 0; i < TEXTS.length; i++) {
                        assertArrayEquals(tok.encode(TEXTS[i] + rep, true), got.get(rep * TEXTS.length + i));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < TEXTS.length; i++) {
            assertArrayEquals(want.get(i), tok.encode(TEXTS[i], true));
        }
    }

    @Test
    void sentencePieceTokenizer() throws Exception {
        check(SentencePieceTokenizer.load(Path.of("src/test/resources/tokenizer/spm/bpe_nfkc_bytefallback.model"),
                TokenizerConfig.EMPTY));
    }

    @Test
    void tokenizerJson() throws Exception {
        check(HfTokenizer.load(Path.of("src/test/resources/tokenizer/hf/metaspace_first.tokenizer.json"), TokenizerConfig.EMPTY));
        check(HfTokenizer.load(Path.of("src/test/resources/tokenizer/hf/llama3_regex.tokenizer.json"), TokenizerConfig.EMPTY));
    }
}
