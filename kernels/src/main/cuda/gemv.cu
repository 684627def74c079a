// GEMV, the decode shape of Backend.matmul: out[M, N] = x[M, K] . w[N, K]^T + bias for M <= 8.
// One warp per output feature (4 per block); the weight row is streamed once with 128-bit loads
// and reused for all M rows of x; weights are dequantised in registers, accumulation is fp32.
// Q8_0 / Q4_0 rows (34- / 18-byte blocks, only 2-byte aligned) are staged through shared memory
// in 16-byte loads when a row starts 16-byte aligned (K a multiple of 256), else read directly.
#include "common.cuh"

using namespace mgm;

namespace {

constexpr int WARPS = 4;

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// 16 bytes of weights to floats (4 for F32, 8 for F16 / BF16).
template <int KIND>
__device__ __forceinline__ void unpack16(const uint4& r, float* f) {
    if (KIND == DT_F32) {
        f[0] = __uint_as_float(r.x);
        f[1] = __uint_as_float(r.y);
        f[2] = __uint_as_float(r.z);
        f[3] = __uint_as_float(r.w);
    } else {
        unsigned u[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            if (KIND == DT_BF16) {
                f[2 * i] = __uint_as_float(u[i] << 16);
                f[2 * i + 1] = __uint_as_float(u[i] & 0xFFFF0000u);
            } else {
                f[2 * i] = half_bits((unsigned short) (u[i] & 0xFFFFu));
                f[2 * i + 1] = half_bits((unsigned short) (u[i] >> 16));
            }
        }
    }
}

template <int M>
__device__ __forceinline__ void finish(float (&acc)[M], const float* bias, float* out, long long os, int n) {
#pragma unroll
    for (int m = 0; m < M; m++) acc[m] = warp_sum(acc[m]);
    if ((threadIdx.x & 31) == 0) {
        float b = bias != nullptr ? bias[n] : 0.0f;
#pragma unroll
        for (int m = 0; m < M; m++) out[m * os + n] = acc[m] + b;
    }
}

template <int M, int KIND>
__device__ void gemv_dense(const float* x, long long xs, const void* w, const float* bias, float* out, long long os, int N,
                           int K) {
    constexpr int PER = KIND == DT_F32 ? 4 : 8;  // elements per 16-byte load
    constexpr int EB = KIND == DT_F32 ? 4 : 2;
    int lane = threadIdx.x & 31;
    int n = blockIdx.x * WARPS + (threadIdx.x >> 5);
    if (n >= N) return;
    const unsigned char* wrow = static_cast<const unsigned char*>(w) + (long long) n * K * EB;
    float acc[M];
#pragma unroll
    for (int m = 0; m < M; m++) acc[m] = 0.0f;
    bool vec = aligned16(wrow) && aligned16(x) && K % PER == 0 && xs % 4 == 0;
    if (vec) {
        int chunks = K / PER;
#pragma unroll 4
        for (int c = lane; c < chunks; c += 32) {
            uint4 raw = reinterpret_cast<const uint4*>(wrow)[c];
            float wf[PER];
            unpack16<KIND>(raw, wf);
            int k = c * PER;
#pragma unroll
            for (int m = 0; m < M; m++) {
                const float4* xp = reinterpret_cast<const float4*>(x + m * xs + k);
#pragma unroll
                for (int j = 0; j < PER / 4; j++) {
                    float4 xv = __ldg(xp + j);
                    acc[m] += wf[4 * j] * xv.x + wf[4 * j + 1] * xv.y + wf[4 * j + 2] * xv.z + wf[4 * j + 3] * xv.w;
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += 32) {
            float wv = load_as_float(w, (long long) n * K + k, KIND);
#pragma unroll
            for (int m = 0; m < M; m++) acc[m] += wv * x[m * xs + k];
        }
    }
    finish<M>(acc, bias, out, os, n);
}

// Dot of one quantised block (quants at q) with 32 floats of x, before the scale.
template <int KIND>
__device__ __forceinline__ float block_dot(const unsigned char* q, const float* x, bool vec) {
    float s = 0.0f;
    if (KIND == DT_Q8_0) {
        const signed char* qs = reinterpret_cast<const signed char*>(q);
        if (vec) {
#pragma unroll
            for (int j = 0; j < 8; j++) {
                float4 xv = __ldg(reinterpret_cast<const float4*>(x) + j);
                s += (float) qs[4 * j] * xv.x + (float) qs[4 * j + 1] * xv.y + (float) qs[4 * j + 2] * xv.z +
                     (float) qs[4 * j + 3] * xv.w;
            }
        } else {
            for (int j = 0; j < 32; j++) s += (float) qs[j] * x[j];
        }
    } else {
        if (vec) {
#pragma unroll
            for (int j = 0; j < 4; j++) {
                float4 lo = __ldg(reinterpret_cast<const float4*>(x) + j);
                float4 hi = __ldg(reinterpret_cast<const float4*>(x + 16) + j);
                int b0 = q[4 * j], b1 = q[4 * j + 1], b2 = q[4 * j + 2], b3 = q[4 * j + 3];
                s += (float) ((b0 & 15) - 8) * lo.x + (float) ((b1 & 15) - 8) * lo.y + (float) ((b2 & 15) - 8) * lo.z +
                     (float) ((b3 & 15) - 8) * lo.w;
                s += (float) ((b0 >> 4) - 8) * hi.x + (float) ((b1 >> 4) - 8) * hi.y + (float) ((b2 >> 4) - 8) * hi.z +
                     (float) ((b3 >> 4) - 8) * hi.w;
            }
        } else {
            for (int j = 0; j < 16; j++) {
                s += (float) ((q[j] & 15) - 8) * x[j] + (float) ((q[j] >> 4) - 8) * x[j + 16];
            }
        }
    }
    return s;
}

// stage: 16-byte aligned shared memory, 32 blocks per warp (declared once per kernel).
template <int M, int KIND>
__device__ void gemv_quant(const float* x, long long xs, const void* w, const float* bias, float* out, long long os, int N,
                           int K, unsigned char* stage) {
    constexpr int BB = KIND == DT_Q8_0 ? 34 : 18;  // bytes per block
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int n = blockIdx.x * WARPS + warp;
    if (n >= N) return;
    int nb = K / 32;
    const unsigned char* wrow = static_cast<const unsigned char*>(w) + (long long) n * nb * BB;
    bool stage16 = aligned16(wrow) && nb % 8 == 0;
    bool xvec = aligned16(x) && xs % 4 == 0;
    unsigned char* st = stage + warp * 32 * BB;
    float acc[M];
#pragma unroll
    for (int m = 0; m < M; m++) acc[m] = 0.0f;
    for (int b0 = 0; b0 < nb; b0 += 32) {
        int count = min(32, nb - b0);
        const unsigned char* src = wrow + (long long) b0 * BB;
        if (stage16) {
            int chunks = count * BB / 16;  // count is a multiple of 8 here
            for (int c = lane; c < chunks; c += 32) reinterpret_cast<uint4*>(st)[c] = reinterpret_cast<const uint4*>(src)[c];
            __syncwarp();
        }
        if (lane < count) {
            const unsigned char* blk = (stage16 ? st : src) + lane * BB;
            float d = half_bits(*reinterpret_cast<const unsigned short*>(blk));
            int k = (b0 + lane) * 32;
#pragma unroll
            for (int m = 0; m < M; m++) acc[m] += d * block_dot<KIND>(blk + 2, x + m * xs + k, xvec);
        }
        if (stage16) __syncwarp();  // the next chunk overwrites the stage
    }
    finish<M>(acc, bias, out, os, n);
}

template <int M, int KIND>
__device__ __forceinline__ void gemv_m(const float* x, long long xs, const void* w, const float* bias, float* out, long long os,
                                       int N, int K, unsigned char* stage) {
    if (KIND == DT_Q8_0 || KIND == DT_Q4_0) {
        gemv_quant<M, KIND>(x, xs, w, bias, out, os, N, K, stage);
    } else {
        gemv_dense<M, KIND>(x, xs, w, bias, out, os, N, K);
    }
}

template <int KIND>
__device__ void gemv_any(const float* x, long long xs, const void* w, const float* bias, float* out, long long os, int M,
                         int N, int K, unsigned char* stage) {
    switch (M) {
        case 1: gemv_m<1, KIND>(x, xs, w, bias, out, os, N, K, stage); break;
        case 2: gemv_m<2, KIND>(x, xs, w, bias, out, os, N, K, stage); break;
        case 3: gemv_m<3, KIND>(x, xs, w, bias, out, os, N, K, stage); break;
        case 4: gemv_m<4, KIND>(x, xs, w, bias, out, os, N, K, stage); break;
        case 5: gemv_m<5, KIND>(x, xs, w, bias, out, os, N, K, stage); break;
        case 6: gemv_m<6, KIND>(x, xs, w, bias, out, os, N, K, stage); break;
        case 7: gemv_m<7, KIND>(x, xs, w, bias, out, os, N, K, stage); break;
        default: gemv_m<8, KIND>(x, xs, w, bias, out, os, N, K, stage); break;
    }
}

}  // namespace

// Launch: grid ceil(N / 4), block 128. x rows `xs` floats apart, out rows `os` floats apart.
extern "C" __global__ void __launch_bounds__(128) gemv_f32(const float* x, long long xs, const void* w, const float* bias,
                                                         float* out, long long os, int M, int N, int K) {
    gemv_any<DT_F32>(x, xs, w, bias, out, os, M, N, K, nullptr);
}
extern "C" __global__ void __launch_bounds__(128) gemv_f16(const float* x, long long xs, const void* w, const float* bias,
                                                         float* out, long long os, int M, int N, int K) {
    gemv_any<DT_F16>(x, xs, w, bias, out, os, M, N, K, nullptr);
}
extern "C" __global__ void __launch_bounds__(128) gemv_bf16(const float* x, long long xs, const void* w, const float* bias,
                                                         float* out, long long os, int M, int N, int K) {
    gemv_any<DT_BF16>(x, xs, w, bias, out, os, M, N, K, nullptr);
}
extern "C" __global__ void __launch_bounds__(128) gemv_q8_0(const float* x, long long xs, const void* w, const float* bias,
                                                         float* out, long long os, int M, int N, int K) {
    __shared__ __align__(16) unsigned char stage[WARPS * 32 * 34];
    gemv_any<DT_Q8_0>(x, xs, w, bias, out, os, M, N, K, stage);
}
extern "C" __global__ void __launch_bounds__(128) gemv_q4_0(const float* x, long long xs, const void* w, const float* bias,
                                                         float* out, long long os, int M, int N, int K) {
    __shared__ __align__(16) unsigned char stage[WARPS * 32 * 18];
    gemv_any<DT_Q4_0>(x, xs, w, bias, out, os, M, N, K, stage);
}
