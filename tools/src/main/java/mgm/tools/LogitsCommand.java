package mgm.tools;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import mgm.loaders.image.RgbImage;
import mgm.loaders.tokenizer.ImagePrompt;
import mgm.model.MgmModel;
import mgm.model.llm.KvCache;
import mgm.runtime.DType;
import mgm.runtime.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mgm-run logits}: the logits of every position of a token sequence (with images spliced in
 * where -200 stands), as a float32 {@code [T, vocab]} .npy: the check against a PyTorch run of the
 * same checkpoint.
 */
@Command(name = "logits", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Writes the logits of every position of a token sequence to a .npy file.",
        description = {"Writes the logits of every position of a token sequence as a float32 [T, vocab] .npy file.",
                "-200 in --token-ids marks where an image's visual tokens go (576, or 2880 for HD), as in MGM's input_ids;",
                "T counts the positions after that splice. The KV cache is f32 unless --kv-dtype says otherwise."},
        footerHeading = "%nExamples:%n",
        footer = {"  mgm-run logits --model-path MGM-7B --token-ids 1,306,4966 --output text.npy",
                "  mgm-run logits --model-path MGM-7B --token-ids 1,-200,29871,13,5618 --image-file cat.jpg --output mm.npy",
                "  mgm-run logits --model-path MGM-2B --load-4bit --device cpu --token-ids 2,1596 --output q4.npy"})
final class LogitsCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--token-ids", required = true, split = ",", paramLabel = "IDS",
            description = "Comma-separated token ids; -200 marks an image.")
    List<Integer> tokenIds;

    @Option(names = "--image-file", split = ",", paramLabel = "IMG",
            description = "One image per -200, in order (repeat the option or give a comma-separated list).")
    List<Path> imageFiles = new ArrayList<>();

    @Option(names = "--output", required = true, paramLabel = "OUT.npy", description = "Where to write the logits.")
    Path output;

    @Override
    public Integer call() {
        int[] ids = tokenIds.stream().mapToInt(Integer::intValue).toArray();
        if (ids.length == 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--token-ids is empty");
        }
        int markers = 0;
        for (int id : ids) {
            if (id == ImagePrompt.IMAGE_TOKEN_INDEX) {
                markers++;
            } else if (id < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--token-ids: " + id
                        + " is not a token id (ids are >= 0; -200 marks an image)");
            }
        }
        if (markers != imageFiles.size()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--token-ids has " + markers
                    + " image marker(s) (-200) but " + imageFiles.size() + " --image-file value(s) were given");
        }
        model.defaultKvDtype = DType.F32;
        model.requireModelPath(spec.commandLine());
        model.validate();
        List<RgbImage> images = Images.decode(imageFiles);
        try (ModelOptions.Loaded loaded = model.load(spec.commandLine(), spec.commandLine().getErr())) {
            MgmModel m = loaded.model();
            for (int id : ids) {
                if (id >= m.config().llm().vocabSize()) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--token-ids: " + id
                            + " is outside the vocabulary [0, " + m.config().llm().vocabSize() + ")");
                }
            }
            if (markers > 0 && !m.isMultimodal()) {
                throw MgmRun.CommandFailure.usage("--token-ids has an image marker but the model takes no images");
            }
            int positions = m.sequenceLength(ids);
            int capacity = model.context > 0 ? model.context : positions;
            if (positions > capacity || positions > m.config().llm().maxPositionEmbeddings()) {
                throw MgmRun.CommandFailure.usage("the sequence is " + positions + " positions long, more than the context ("
                        + Math.min(capacity, m.config().llm().maxPositionEmbeddings()) + ")");
            }
            write(m, ids, images, positions, capacity);
            spec.commandLine().getOut().println("wrote " + output + ": float32 [" + positions + ", "
                    + m.config().llm().vocabSize() + "] (" + (ids.length - markers) + " text tokens, " + markers + " image(s) of "
                    + m.tokensPerImage() + " tokens)");
            return 0;
        }
    }

    private void write(MgmModel m, int[] ids, List<RgbImage> images, int positions, int capacity) {
        List<Tensor> encoded = new ArrayList<>();
        int vocab = m.config().llm().vocabSize();
        try (NpyWriter npy = new NpyWriter(output, positions, vocab)) {
            for (RgbImage image : images) {
                encoded.add(m.encodeImage(image));
            }
            try (Tensor embeddings = m.embed(ids, encoded);
                 KvCache cache = m.decoder().newCache(capacity, m.kvDtype())) {
                IOException[] failure = new IOException[1];
                m.decoder().prefill(cache, embeddings, (logits, first) -> {
                    if (failure[0] != null) {
                        return;
                    }
                    Tensor host = m.backend().toHost(logits);
                    try {
                        npy.writeRows(host.segment(), host.dim(0));
                    } catch (IOException e) {
                        failure[0] = e;
                    } finally {
                        if (host != logits) {
                            host.close();
                        }
                    }
                });
                if (failure[0] != null) {
                    throw failure[0];
                }
            }
            npy.commit();
        } catch (IOException e) {
            throw MgmRun.CommandFailure.file(output + ": cannot be written: " + e.getMessage());
        } finally {
            encoded.forEach(Tensor::close);
        }
    }
}
