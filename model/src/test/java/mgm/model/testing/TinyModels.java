package mgm.model.testing;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import mgm.loaders.Checkpoint;
import mgm.loaders.config.LlmConfig;
import mgm.model.CheckpointWeights;
import mgm.model.WeightFormat;
import mgm.model.WeightLoader;
import mgm.model.llm.Decoder;
import mgm.model.llm.DecoderWeights;
import mgm.model.llm.KvCache;
import mgm.runtime.Backend;
import mgm.runtime.Tensor;

/**
 * The tiny checkpoints committed under {@code src/test/resources/tiny} (written by
 * {@code mgm.tools.tiny}; see make_checkpoints.sh there) and their reference fixtures under
 * {@code src/test/resources/fixtures}.
 */
public final class TinyModels {
    private TinyModels() {}

    /** The root holding {@code model_zoo/} and {@code work_dirs/}. */
    public static Path root() {
        return resource("tiny");
    }

    /** A model folder, e.g. {@code MGM-tiny-vicuna}. */
    public static Path model(String name) {
        return root().resolve("work_dirs/MGM").resolve(name);
    }

    /** A fixture file or folder under {@code fixtures/}. */
    public static Path fixture(String relative) {
        return resource("fixtures").resolve(relative);
    }

    public static Path resource(String name) {
        URL url = TinyModels.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalStateException("test resource '" + name + "' is missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A decoder loaded from a model folder, with everything it holds open. */
    public record LoadedDecoder(LlmConfig config, Checkpoint checkpoint, WeightLoader loader, Decoder decoder)
            implements AutoCloseable {

        /** Logits of every position of one prefill over {@code ids} (a fresh cache), as [T][V]. */
        public float[][] logits(int[] ids) {
            try (KvCache cache = decoder.newCache(ids.length, mgm.runtime.DType.F32)) {
                return prefillLogits(cache, ids);
            }
        }

        /** Prefills {@code ids} into {@code cache}, returning the logits of every new position. */
        public float[][] prefillLogits(KvCache cache, int[] ids) {
            float[][] out = new float[ids.length][];
            int base = cache.length();
            decoder.prefill(cache, ids, (Tensor logits, int first) -> {
                float[] v = TestBackends.read(decoder.backend(), logits);
                int vocab = (int) logits.dim(1);
                for (int r = 0; r < logits.dim(0); r++) {
                    out[first - base + r] = java.util.Arrays.copyOfRange(v, r * vocab, (r + 1) * vocab);
                }
            });
            return out;
        }

        @Override
        public void close() {
            decoder.close();
            loader.close();
            checkpoint.close();
        }
    }

    public static LoadedDecoder loadDecoder(Path folder, Backend backend, WeightFormat format, int maxChunk) {
        return loadDecoder(folder, backend, format, false, maxChunk);
    }

    /** With lm_head quantised to Q8_0 when {@code lmHead8bit} ({@link WeightLoader#outputHead}). */
    public static LoadedDecoder loadDecoder(Path folder, Backend backend, WeightFormat format, boolean lmHead8bit, int maxChunk) {
        LlmConfig config = LlmConfig.load(folder.resolve("config.json"));
        Checkpoint ckpt = Checkpoint.open(folder);
        WeightLoader loader = new WeightLoader(new CheckpointWeights(ckpt), backend, format, lmHead8bit);
        try {
            DecoderWeights w = DecoderWeights.load(config, loader, "model.", DecoderWeights.ProgressListener.NONE);
            return new LoadedDecoder(config, ckpt, loader, new Decoder(config, w, backend, maxChunk));
        } catch (RuntimeException e) {
            loader.close();
            ckpt.close();
            throw e;
        }
    }
}
