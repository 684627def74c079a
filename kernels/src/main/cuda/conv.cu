// Depthwise 2-D convolution (ConvNeXt's 7x7), stride 1, zero padding, channels-last.
// conv2d proper is an implicit GEMM and lives in gemm.cu with the GEMM tiles it shares.
#include "common.cuh"

using namespace mgm;

// x [N, H, W, C], w [C, 1, k, k] (F32 / F16 / BF16), bias [C] or null, out [N, Ho, Wo, C] with
// Ho = H + 2 pad - k + 1; all contiguous. One thread per output element, channel fastest so that
// neighbouring threads read neighbouring channels.
extern "C" __global__ void depthwise_conv2d(const float* x, const void* w, int w_dtype, const float* bias, float* out, int N,
                                            int H, int W, int C, int k, int pad, int Ho, int Wo) {
    long long n_out = (long long) N * Ho * Wo * C;
    for (long long e = blockIdx.x * (long long) blockDim.x + threadIdx.x; e < n_out; e += (long long) gridDim.x * blockDim.x) {
        int c = (int) (e % C);
        long long r = e / C;
        int wo = (int) (r % Wo);
        r /= Wo;
        int ho = (int) (r % Ho);
        int n = (int) (r / Ho);
        const float* img = x + (long long) n * H * W * C;
        float acc = bias != nullptr ? bias[c] : 0.0f;
        for (int i = 0; i < k; i++) {
            int h = ho - pad + i;
            if (h < 0 || h >= H) continue;
            for (int j = 0; j < k; j++) {
                int ww = wo - pad + j;
                if (ww < 0 || ww >= W) continue;
                acc += img[((long long) h * W + ww) * C + c] * load_as_float(w, ((long long) c * k + i) * k + j, w_dtype);
            }
        }
        out[e] = acc;
    }
}
