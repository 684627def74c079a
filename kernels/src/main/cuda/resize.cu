// Bilinear resize with PyTorch's F.interpolate(mode='bilinear', align_corners=False) arithmetic:
// source = max(0, scale * (dst + 0.5) - 0.5) with scale = in / out in F32, no antialiasing.
#include "common.cuh"

// x [N, H, W, C], out [N, Ho, Wo, C], contiguous; scale_h = (float) H / Ho, scale_w = (float) W / Wo.
extern "C" __global__ void resize_bilinear(const float* x, float* out, int N, int H, int W, int C, int Ho, int Wo,
                                           float scale_h, float scale_w) {
    long long n_out = (long long) N * Ho * Wo * C;
    for (long long e = blockIdx.x * (long long) blockDim.x + threadIdx.x; e < n_out; e += (long long) gridDim.x * blockDim.x) {
        int c = (int) (e % C);
        long long r = e / C;
        int wo = (int) (r % Wo);
        r /= Wo;
        int ho = (int) (r % Ho);
        int n = (int) (r / Ho);
        // Separate roundings (no FMA), as PyTorch's CPU kernel computes them.
        float hr = __fsub_rn(__fmul_rn(scale_h, __fadd_rn((float) ho, 0.5f)), 0.5f);
        float wr = __fsub_rn(__fmul_rn(scale_w, __fadd_rn((float) wo, 0.5f)), 0.5f);
        if (hr < 0.0f) hr = 0.0f;
        if (wr < 0.0f) wr = 0.0f;
        int h1 = (int) hr, w1 = (int) wr;
        int h1p = h1 < H - 1 ? 1 : 0, w1p = w1 < W - 1 ? 1 : 0;
        float h1l = hr - (float) h1, w1l = wr - (float) w1;
        float h0l = 1.0f - h1l, w0l = 1.0f - w1l;
        const float* img = x + (long long) n * H * W * C;
        const float* p00 = img + ((long long) h1 * W + w1) * C + c;
        long long dw = (long long) w1p * C, dh = (long long) h1p * W * C;
        out[e] = h0l * (w0l * p00[0] + w1l * p00[dw]) + h1l * (w0l * p00[dh] + w1l * p00[dh + dw]);
    }
}
