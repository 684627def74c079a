// Row-wise normalisations over the last dim: RMSNorm, LayerNorm, softmax. One block per row;
// rows are `row_stride` elements apart with unit stride inside a row (the Java side copies other
// views to contiguous scratch first). In place (out == x) is fine: each thread reads an element
// before it writes it, and the statistics are complete (block barrier) before any write.
#include "common.cuh"

using namespace mgm;

// out = x / sqrt(mean(x^2) + eps) * (offset + w); w in F32, F16 or BF16.
extern "C" __global__ void rms_norm(const float* x, long long x_stride, const void* w, int w_dtype, float eps, float offset,
                                    float* out, long long out_stride, int D) {
    const float* xr = x + blockIdx.x * x_stride;
    float* orow = out + blockIdx.x * out_stride;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss);
    float inv = 1.0f / sqrtf(ss / (float) D + eps);
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        orow[i] = xr[i] * inv * (offset + load_as_float(w, i, w_dtype));
    }
}

// out = (x - mean) / sqrt(var + eps) * w + b (biased variance, two passes); w, b in F32/F16/BF16,
// b may be null.
extern "C" __global__ void layer_norm(const float* x, long long x_stride, const void* w, int w_dtype, const void* b,
                                      int b_dtype, float eps, float* out, long long out_stride, int D) {
    const float* xr = x + blockIdx.x * x_stride;
    float* orow = out + blockIdx.x * out_stride;
    float s = 0.0f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) s += xr[i];
    float mean = block_sum(s) / (float) D;
    float v = 0.0f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        float d = xr[i] - mean;
        v += d * d;
    }
    float inv = 1.0f / sqrtf(block_sum(v) / (float) D + eps);
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        float y = (xr[i] - mean) * inv * load_as_float(w, i, w_dtype);
        orow[i] = b != nullptr ? y + load_as_float(b, i, b_dtype) : y;
    }
}

extern "C" __global__ void softmax_rows(const float* x, long long x_stride, float* out, long long out_stride, int D) {
    const float* xr = x + blockIdx.x * x_stride;
    float* orow = out + blockIdx.x * out_stride;
    float m = -INFINITY;
    for (int i = threadIdx.x; i < D; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = block_max(m);
    float s = 0.0f;
    for (int i = threadIdx.x; i < D; i += blockDim.x) s += expf(xr[i] - m);
    float inv = 1.0f / block_sum(s);
    for (int i = threadIdx.x; i < D; i += blockDim.x) orow[i] = expf(xr[i] - m) * inv;
}
