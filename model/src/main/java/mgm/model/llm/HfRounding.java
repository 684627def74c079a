package mgm.model.llm;

import mgm.loaders.config.LlmConfig;
import mgm.runtime.Numerics;

/**
 * We compute in F32, but HF computes in the checkpoint's dtype; where a scalar is rounded to that
 * dtype in HF (Gemma's embedding normaliser, Mixtral's routing weights) and the rounding is big
 * enough to matter, we round it the same way.
 */
final class HfRounding {
    private HfRounding() {}

    static float toActivationDtype(LlmConfig c, float v) {
        if (c.torchDtype() == null) {
            return v;
        }
        return switch (c.torchDtype()) {
            case BF16 -> Numerics.bf16ToF32(Numerics.f32ToBf16(v));
            case F16 -> Numerics.f16ToF32(Numerics.f32ToF16(v));
            default -> v;
        };
    }
}
