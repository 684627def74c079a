package mgm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import mgm.loaders.tokenizer.Tokenizer;
import mgm.loaders.tokenizer.Tokenizers;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encoding speed of the real tokenizers (shared/tokenizers, found by walking up from the working
 * directory or from -Dmgm.shared.tokenizers) on English prose (shared/design/*.md, about 60 KB),
 * one thread. MB/s = input bytes x ops/s; the input size is printed at setup.
 *
 * <pre>
 * ./mvnw -q -B -pl bench -am package -DskipTests
 * java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar TokenizerBench -f 1 -wi 3 -i 5
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class TokenizerBench {
    @Param({"llama3", "llama2", "mistral", "gemma3"})
    public String family;

    private Tokenizer tokenizer;
    private String text;
    private int[] ids;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        Path shared = sharedRoot();
        tokenizer = Tokenizers.load(shared.resolve("tokenizers").resolve(family));
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(shared.resolve("design"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".md")).sorted().toList()) {
                sb.append(Files.readString(p)).append('\n');
            }
        }
        text = sb.toString();
        ids = tokenizer.encode(text, true);
        System.out.printf("%n%s: %d bytes of UTF-8 text -> %d tokens%n", family,
                text.getBytes(StandardCharsets.UTF_8).length, ids.length);
    }

    static Path sharedRoot() {
        String p = System.getProperty("mgm.shared.tokenizers");
        if (p != null) {
            return Path.of(p).getParent();
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("shared/tokenizers")) && Files.isDirectory(d.resolve("shared/design"))) {
                return d.resolve("shared");
            }
        }
        throw new IllegalStateException("shared/tokenizers and shared/design not found above "
                + Path.of("").toAbsolutePath() + "; run from inside the checkout or pass -Dmgm.shared.tokenizers=DIR");
    }

    @Benchmark
    public int[] encode() {
        return tokenizer.encode(text, true);
    }

    @Benchmark
    public String decode() {
        return tokenizer.decode(ids, true);
    }
}
