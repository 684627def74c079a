package mgm.model.vision;

import mgm.runtime.Backend;
import mgm.runtime.DType;
import mgm.runtime.Tensor;

/**
 * One image's path from pixels to LLM embeddings: CLIP on the low-res input, ConvNeXt on the
 * high-res input, patch info mining, projector. HD models ({@code image_grid = 2},
 * {@code image_global}) run CLIP on four crops plus a global thumbnail, mine the crops against the
 * four quadrants of the high-res map and the thumbnail against the map halved, and order the
 * tokens [global, crop00, crop01, crop10, crop11].
 */
public final class VisionEncoder {
    /** The profiling phase of one image's encoding ({@link Backend#phase}). */
    public static final String IMAGE_ENCODE = "image encode";

    private final Backend backend;
    private final ClipVisionTower clip;
    private final ConvNextTower convNext;
    private final PatchInfoMining mining;
    private final Projector projector;
    private final int imageGrid;
    private final boolean imageGlobal;

    public VisionEncoder(Backend backend, ClipVisionTower clip, ConvNextTower convNext, PatchInfoMining mining,
                         Projector projector, int imageGrid, boolean imageGlobal) {
        if (imageGrid != 1 && imageGrid != 2) {
            throw new IllegalArgumentException("image_grid " + imageGrid + " is not supported (1 or 2)");
        }
        if (imageGrid == 2 && !imageGlobal) {
            throw new IllegalArgumentException("image_grid 2 without image_global is not a released MGM layout");
        }
        this.backend = backend;
        this.clip = clip;
        this.convNext = convNext;
        this.mining = mining;
        this.projector = projector;
        this.imageGrid = imageGrid;
        this.imageGlobal = imageGlobal;
    }

    public ClipVisionTower clip() {
        return clip;
    }

    public ConvNextTower convNext() {
        return convNext;
    }

    /** Low-res images per input image: 1, or 4 crops + 1 global for HD. */
    public int lowResImages() {
        return imageGrid == 1 ? 1 : imageGrid * imageGrid + (imageGlobal ? 1 : 0);
    }

    /** Visual tokens per image: 576, or 2880 for HD. */
    public int tokensPerImage() {
        return lowResImages() * clip.spec().outputTokens();
    }

    /**
     * @param lowRes  {@code [1 | 5, 3, 336, 336]} (HD: crops in row-major order, then the global image)
     * @param highRes {@code [1, 3, A, A]}
     * @return visual embeddings {@code [tokens, hidden]}, owned by the caller
     */
    public Tensor encode(Tensor lowRes, Tensor highRes) {
        if (lowRes.rank() != 4 || lowRes.dim(0) != lowResImages()) {
            throw new IllegalArgumentException("expected " + lowResImages() + " low-res images, got " + lowRes.describe());
        }
        try (Backend.Scope _ = backend.phase(IMAGE_ENCODE); Tensor mined = mined(lowRes, highRes)) {
            return projector.project(mined);
        }
    }

    /** The towers and mining without the projector ({@code [tokens, mm_hidden_size]}), for stage-by-stage checks. */
    public Tensor mined(Tensor lowRes, Tensor highRes) {
        try (Tensor features = clip.encode(lowRes); Tensor map = convNext.encode(highRes)) {
            return mine(features, map);
        }
    }

    /**
     * Patch info mining on the towers' outputs: CLIP features {@code [1 | 5, 576, mm_hidden_size]} and
     * the ConvNeXt map {@code [A/4, A/4, mm_hidden_size_aux]}, which is normalised in place (consumed).
     * Returns {@code [tokens, mm_hidden_size]}, owned by the caller.
     */
    public Tensor mine(Tensor features, Tensor map) {
        if (features.rank() != 3 || features.dim(0) != lowResImages()) {
            throw new IllegalArgumentException("expected CLIP features of " + lowResImages() + " images, got "
                    + features.describe());
        }
        return imageGrid == 1 ? mineSingle(features, map) : mineGrid(features, map);
    }

    /** Visual embeddings {@code [tokens, hidden]} of mined features, owned by the caller. */
    public Tensor project(Tensor mined) {
        return projector.project(mined);
    }

    private Tensor mineSingle(Tensor features, Tensor map) {
        mining.normalizeMap(map);
        return mining.mine(features.select(0, 0), map);
    }

    private Tensor mineGrid(Tensor features, Tensor map) {
        long side = map.dim(0);
        long half = side / imageGrid;
        if (side % imageGrid != 0 || map.dim(1) != side) {
            throw new IllegalArgumentException("high-res map " + map.describe() + " cannot be split into a "
                    + imageGrid + "x" + imageGrid + " grid");
        }
        int crops = imageGrid * imageGrid;
        long tokens = features.dim(1);
        Tensor out = backend.allocate(DType.F32, (crops + 1) * tokens, features.dim(2));
        try (Tensor global = backend.allocate(DType.F32, 1, half, half, map.dim(2))) {
            // The thumbnail map is resized from the raw map, before the pixel-wise normalisation.
            backend.resizeBilinear(map.unsqueeze(0), global);
            Tensor globalMap = global.select(0, 0);
            mining.normalizeMap(globalMap);
            try (Tensor g = mining.mine(features.select(0, crops), globalMap)) {
                backend.copyRows(g, out, 0);
            }
            mining.normalizeMap(map);
            for (int c = 0; c < crops; c++) {
                long y = (long) (c / imageGrid) * half;
                long x = (long) (c % imageGrid) * half;
                Tensor quadrant = map.slice(0, y, y + half).slice(1, x, x + half);
                try (Tensor m = mining.mine(features.select(0, c), quadrant)) {
                    backend.copyRows(m, out, (c + 1) * tokens);
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }
}
