// Rotary position embedding, HF rotate_half layout, on x [T, H, Dh] with unit stride along Dh
// (token and head strides free, so q/k views of a fused projection work in place).
#include "common.cuh"

// One thread per (token, head, i < Dh/2): angle = (float)(start_pos + t) * inv_freq[i] in F32.
extern "C" __global__ void rope_half(const float* x, long long x_st, long long x_sh, float* out, long long o_st,
                                     long long o_sh, const float* inv_freq, int T, int H, int Dh, int start_pos) {
    int half = Dh / 2;
    long long n = (long long) T * H * half;
    for (long long e = blockIdx.x * (long long) blockDim.x + threadIdx.x; e < n; e += (long long) gridDim.x * blockDim.x) {
        int i = (int) (e % half);
        long long th = e / half;
        int h = (int) (th % H);
        int t = (int) (th / H);
        float angle = (float) (start_pos + t) * inv_freq[i];
        float s, c;
        sincosf(angle, &s, &c);
        const float* xr = x + t * x_st + h * x_sh;
        float* orow = out + t * o_st + h * o_sh;
        float x1 = xr[i], x2 = xr[i + half];
        orow[i] = x1 * c - x2 * s;
        orow[i + half] = x2 * c + x1 * s;
    }
}
