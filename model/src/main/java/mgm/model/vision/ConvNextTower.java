package mgm.model.vision;

import java.util.ArrayList;
import java.util.List;
import mgm.model.WeightLoader;
import mgm.runtime.Activation;
import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * The OpenCLIP ConvNeXt trunk MGM uses for high-resolution features (timm ConvNeXt: patchify stem
 * + LayerNorm, four stages of [LayerNorm + 2x2 stride-2 conv downsample] and blocks
 * {@code x += gamma * fc2(GELU(fc1(LN(dwconv7x7(x)))))}; no final norm or head), returning every
 * stage's output bilinearly resized to the first stage's size and concatenated on channels:
 * {@code [A/4, A/4, sum C]} channels-last. Widths, depths and kernel sizes are read from the
 * weights. Activations stay channels-last, so the block MLP is a plain matmul over pixels.
 */
public final class ConvNextTower {
    /** timm's LayerNorm / LayerNorm2d default. */
    private static final float EPS = 1e-6f;
    /** Pixels per block-MLP chunk: bounds the 4C-wide hidden buffer. */
    private static final int CHUNK = 4096;

    private final Backend backend;
    private final Tensor stemWeight;
    private final Tensor stemBias;
    private final Tensor stemNormWeight;
    private final Tensor stemNormBias;
    private final int patch;
    private final Stage[] stages;

    private record Block(Tensor dwWeight, Tensor dwBias, Tensor normWeight, Tensor normBias,
                         Tensor fc1, Tensor b1, Tensor fc2, Tensor b2, Tensor gamma) {
    }

    private record Stage(int channels, Tensor downNormWeight, Tensor downNormBias, Tensor downWeight, Tensor downBias,
                         int kernel, Block[] blocks) {
    }

    /**
     * @param stemPrefix   {@code visual.trunk.stem.} (open_clip) or {@code model.vision_tower_aux.vision_stem.}
     * @param stagesPrefix {@code visual.trunk.stages.} or {@code model.vision_tower_aux.vision_stages.}
     */
    public ConvNextTower(WeightLoader w, String stemPrefix, String stagesPrefix) {
        this.backend = w.backend();
        Tensor stem = w.raw(stemPrefix + "0.weight", -1, 3, -1, -1);
        int c0 = (int) stem.dim(0);
        patch = (int) stem.dim(2);
        if (stem.dim(3) != patch) {
            throw new IllegalArgumentException("ConvNeXt stem kernel " + stem.dim(2) + "x" + stem.dim(3) + " is not square");
        }
        stemWeight = w.stored(stemPrefix + "0.weight", c0, 3, patch, patch);
        stemBias = w.vector(stemPrefix + "0.bias", c0);
        stemNormWeight = w.vector(stemPrefix + "1.weight", c0);
        stemNormBias = w.vector(stemPrefix + "1.bias", c0);

        List<Stage> found = new ArrayList<>();
        int inChannels = c0;
        for (int s = 0; ; s++) {
            String p = stagesPrefix + s + ".";
            int depth = countBlocks(w, p + "blocks.");
            if (depth == 0) {
                break;
            }
            Tensor dw0 = w.raw(p + "blocks.0.conv_dw.weight", -1, 1, -1, -1);
            int c = (int) dw0.dim(0);
            int k = (int) dw0.dim(2);
            Tensor dnw = null;
            Tensor dnb = null;
            Tensor dw = null;
            Tensor db = null;
            if (w.has(p + "downsample.1.weight")) {
                dnw = w.vector(p + "downsample.0.weight", inChannels);
                dnb = w.vector(p + "downsample.0.bias", inChannels);
                dw = w.stored(p + "downsample.1.weight", c, inChannels, 2, 2);
                db = w.vector(p + "downsample.1.bias", c);
            } else if (c != inChannels) {
                throw new IllegalArgumentException("ConvNeXt stage " + s + " changes width " + inChannels + " -> " + c
                        + " without a downsample layer (" + p + "downsample.1.weight)");
            }
            Block[] blocks = new Block[depth];
            for (int b = 0; b < depth; b++) {
                String q = p + "blocks." + b + ".";
                long hidden = w.raw(q + "mlp.fc1.weight", -1, c).dim(0);
                blocks[b] = new Block(w.stored(q + "conv_dw.weight", c, 1, k, k), w.vector(q + "conv_dw.bias", c),
                        w.vector(q + "norm.weight", c), w.vector(q + "norm.bias", c),
                        w.stored(q + "mlp.fc1.weight", hidden, c), w.vector(q + "mlp.fc1.bias", hidden),
                        w.stored(q + "mlp.fc2.weight", c, hidden), w.vector(q + "mlp.fc2.bias", c),
                        w.vector(q + "gamma", c));
            }
            found.add(new Stage(c, dnw, dnb, dw, db, k, blocks));
            inChannels = c;
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException("no ConvNeXt stages found under '" + stagesPrefix + "'");
        }
        stages = found.toArray(new Stage[0]);
    }

    /** Channels of the concatenated output (2880 for ConvNeXt-L). */
    public int outputChannels() {
        int sum = 0;
        for (Stage s : stages) {
            sum += s.channels;
        }
        return sum;
    }

    /** Total downsampling of the first stage (the stem's patch size). */
    public int stride() {
        return patch;
    }

    /**
     * Encodes one normalised image {@code [1, 3, A, A]} (NCHW) into {@code [A/4, A/4, sum C]}
     * (channels-last), owned by the caller.
     */
    public Tensor encode(Tensor image) {
        if (image.rank() != 4 || image.dim(0) != 1 || image.dim(1) != 3 || image.dim(2) % patch != 0
                || image.dim(3) % patch != 0) {
            throw new IllegalArgumentException("ConvNeXt expects one image [1, 3, H, W] with H, W multiples of " + patch
                    + ", got " + image.describe());
        }
        long h = image.dim(2) / patch;
        long wd = image.dim(3) / patch;
        List<Tensor> outputs = new ArrayList<>();
        try {
            Tensor x = backend.allocate(DType.F32, 1, h, wd, stages[0].channels);
            outputs.add(x);
            try (Tensor nhwc = backend.allocate(DType.F32, 1, image.dim(2), image.dim(3), 3)) {
                backend.copy(image.permute(0, 2, 3, 1), nhwc);
                backend.conv2d(nhwc, stemWeight, stemBias, patch, 0, x);
            }
            backend.layerNorm(x, stemNormWeight, stemNormBias, EPS, x);
            for (int s = 0; s < stages.length; s++) {
                Stage st = stages[s];
                if (st.downWeight != null) {
                    Tensor prev = outputs.get(outputs.size() - 1);
                    long ph = prev.dim(1);
                    long pw = prev.dim(2);
                    if (ph % 2 != 0 || pw % 2 != 0) {
                        throw new IllegalArgumentException("ConvNeXt stage " + s + " cannot halve a " + ph + "x" + pw + " map");
                    }
                    try (Tensor normed = backend.allocate(DType.F32, 1, ph, pw, prev.dim(3))) {
                        backend.layerNorm(prev, st.downNormWeight, st.downNormBias, EPS, normed);
                        x = backend.allocate(DType.F32, 1, ph / 2, pw / 2, st.channels);
                        outputs.add(x);
                        backend.conv2d(normed, st.downWeight, st.downBias, 2, 0, x);
                    }
                }
                // One set of scratch tensors per stage, shared by its blocks: allocating (and
                // zero-filling) them per block cost ~1.8 s of page faults on a ConvNeXt-L encode.
                long pixels = x.dim(1) * x.dim(2);
                int chunk = (int) Math.min(CHUNK, pixels);
                long hidden = 0;
                for (Block b : st.blocks) {
                    hidden = Math.max(hidden, b.fc1.dim(0));
                }
                try (Backend.Scope _ = backend.layer("convnext stage", s);
                     Tensor y = backend.allocate(DType.F32, x.shape());
                     Tensor h4 = backend.allocate(DType.F32, chunk, Math.max(1, hidden));
                     Tensor out = backend.allocate(DType.F32, chunk, x.dim(3))) {
                    for (Block b : st.blocks) {
                        runBlock(b, st.kernel, x, y, h4, out);
                    }
                }
            }
            return concatenate(outputs, h, wd);
        } finally {
            for (Tensor t : outputs) {
                t.close();
            }
        }
    }

    /** One block, in place on x; y (x's shape), hAll ([chunk, >= hidden]) and out ([chunk, C]) are scratch. */
    private void runBlock(Block b, int kernel, Tensor x, Tensor y, Tensor hAll, Tensor out) {
        long pixels = x.dim(1) * x.dim(2);
        int c = (int) x.dim(3);
        int chunk = (int) out.dim(0);
        Tensor h = hAll.slice(1, 0, b.fc1.dim(0));
        backend.depthwiseConv2d(x, b.dwWeight, b.dwBias, kernel / 2, y);
        Tensor yRows = y.reshape(pixels, c);
        Tensor xRows = x.reshape(pixels, c);
        for (long p = 0; p < pixels; p += chunk) {
            int n = (int) Math.min(chunk, pixels - p);
            Tensor yp = yRows.slice(0, p, p + n);
            Tensor hp = h.slice(0, 0, n);
            Tensor op = out.slice(0, 0, n);
            backend.layerNorm(yp, b.normWeight, b.normBias, EPS, yp);
            backend.matmul(yp, b.fc1, b.b1, hp);
            backend.activation(Activation.GELU_ERF, hp, hp);
            backend.matmul(hp, b.fc2, b.b2, op);
            backend.mul(op, b.gamma, op);
            Tensor xp = xRows.slice(0, p, p + n);
            backend.add(xp, op, xp);
        }
    }

    /**
     * Resizes every stage output to the first stage's size and stacks them on channels, each
     * resized straight into its channel slice of the map: resizing into a fresh tensor and copying
     * it over allocated (and page-faulted) up to 396 MB per MGM-7B encode besides the map.
     */
    private Tensor concatenate(List<Tensor> outputs, long h, long w) {
        Tensor map = backend.allocate(DType.F32, h, w, outputChannels());
        long at = 0;
        for (Tensor o : outputs) {
            long c = o.dim(3);
            Tensor slot = map.slice(2, at, at + c);
            if (o.dim(1) == h && o.dim(2) == w) {
                backend.copy(o.select(0, 0), slot);
            } else {
                backend.resizeBilinear(o, slot.unsqueeze(0));
            }
            at += c;
        }
        return map;
    }

    private static int countBlocks(WeightLoader w, String prefix) {
        int n = 0;
        while (w.has(prefix + n + ".conv_dw.weight")) {
            n++;
        }
        return n;
    }
}
