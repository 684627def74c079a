// Bilinear resize with PyTorch's F.interpolate(mode='bilinear', align_corners=False) arithmetic
// (torch 1.13): scale = in / out rounded to float, source = max(0, scale * (dst + 0.5) - 0.5)
// evaluated in double (C++ promotes dst + 0.5), index0 = floor(source) clamped to in - 1,
// lambda1 = source - index0 clamped to [0, 1] then rounded to float; no antialiasing.
#include "common.cuh"

// One axis: first source index, step to the second (0 at the last pixel) and its weight. The
// double arithmetic is not contracted into FMAs (_rn intrinsics), so it rounds as Java and C++ do.
__device__ __forceinline__ void taps(float scale, int dst, int in, int& i0, int& step, float& l1) {
    double src = __dsub_rn(__dmul_rn((double) scale, __dadd_rn((double) dst, 0.5)), 0.5);
    if (src < 0.0) src = 0.0;
    i0 = (int) floor(src);
    if (i0 > in - 1) i0 = in - 1;
    step = i0 < in - 1 ? 1 : 0;
    double l = __dsub_rn(src, (double) i0);
    l1 = (float) (l < 0.0 ? 0.0 : (l > 1.0 ? 1.0 : l));
}

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
        int h1, w1, h1p, w1p;
        float h1l, w1l;
        taps(scale_h, ho, H, h1, h1p, h1l);
        taps(scale_w, wo, W, w1, w1p, w1l);
        float h0l = 1.0f - h1l, w0l = 1.0f - w1l;
        const float* img = x + (long long) n * H * W * C;
        const float* p00 = img + ((long long) h1 * W + w1) * C + c;
        long long dw = (long long) w1p * C, dh = (long long) h1p * W * C;
        out[e] = h0l * (w0l * p00[0] + w1l * p00[dw]) + h1l * (w0l * p00[dh] + w1l * p00[dh + dw]);
    }
}
