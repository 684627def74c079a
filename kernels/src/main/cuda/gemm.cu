// GEMM, the prefill / vision shape of Backend.matmul (out[M, N] = x[M, K] . w[N, K]^T + bias), and
// conv2d as an implicit GEMM over the same tiles (A[m][k] gathered from an NHWC image).
//
// Tensor-core path (WMMA m16n16k16, fp32 accumulation): F16 / Q8_0 / Q4_0 weights run in half
// precision, BF16 weights in bfloat16; activations are rounded to that type when staged into
// shared memory (as cuBLAS-based engines do), quantised weights are dequantised while staged.
// Tiles: 64 x 128 x 32 per block of 8 warps, each warp 32 x 32 (2 x 2 fragments); double-buffered
// shared tiles fed through registers so the next tile's loads overlap the current MMAs.
// Plain path (F32 weights): a 64 x 64 x 16 SIMT tile, 4 x 4 outputs per thread, exact fp32.
#include "common.cuh"

using namespace mgm;

// Convolution geometry (NHWC input, weights [O][C][kh][kw] seen as [O][K], K = C * kh * kw); a
// kernel argument packed by mgm.kernels.CudaBackend.conv2d (ten ints).
struct ConvGeom {
    int N, H, W, C, kh, kw, stride, pad, Ho, Wo;
};

namespace {

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Everything the tile loaders need, gathered from the kernel arguments.
struct Problem {
    const float* x;
    long long xs;  // dense: row stride of x
    ConvGeom g;    // conv: geometry
    const void* w;
    const float* bias;
    float* out;
    long long os;
    int M, N, K;
};

// Per thread, one row of the A tile: where it starts and whether it exists.
struct ARow {
    const float* p;  // dense: x + m * xs; conv: the image of sample n
    int h0, w0;      // conv: top-left input pixel of output pixel m
    bool valid;
};

template <bool CONV>
__device__ __forceinline__ ARow a_row(const Problem& P, int m) {
    ARow r;
    r.valid = m < P.M;
    int mm = r.valid ? m : 0;
    if (CONV) {
        int wo = mm % P.g.Wo;
        int t = mm / P.g.Wo;
        int ho = t % P.g.Ho;
        int n = t / P.g.Ho;
        r.p = P.x + (long long) n * P.g.H * P.g.W * P.g.C;
        r.h0 = ho * P.g.stride - P.g.pad;
        r.w0 = wo * P.g.stride - P.g.pad;
    } else {
        r.p = P.x + mm * P.xs;
        r.h0 = r.w0 = 0;
    }
    return r;
}

template <bool CONV>
__device__ __forceinline__ float a_at(const Problem& P, const ARow& r, int k) {
    if (!r.valid || k >= P.K) return 0.0f;
    if (!CONV) return r.p[k];
    int taps = P.g.kh * P.g.kw;
    int c = k / taps;
    int rem = k - c * taps;
    int i = rem / P.g.kw;
    int j = rem - i * P.g.kw;
    int h = r.h0 + i, w = r.w0 + j;
    if (h < 0 || h >= P.g.H || w < 0 || w >= P.g.W) return 0.0f;
    return r.p[((long long) h * P.g.W + w) * P.g.C + c];
}

// Element (n, k) of the weights, any weight dtype (row n starts at element n * K).
template <int WDT>
__device__ __forceinline__ float b_at(const Problem& P, int n, int k) {
    if (n >= P.N || k >= P.K) return 0.0f;
    return load_as_float(P.w, (long long) n * P.K + k, WDT);
}

// ------------------------------------------------------------------ tensor-core tiles

namespace wmma = nvcuda::wmma;

constexpr int BM = 64, BN = 128, BK = 32;
constexpr int LDS = BK + 8;    // shared row stride of A and B tiles (elements): 80 bytes, keeps 32-byte fragment alignment
constexpr int LDC = BN + 4;    // shared row stride of the fp32 output tile
constexpr int THREADS = 256;
constexpr int A_TILE = BM * LDS, B_TILE = BN * LDS;

template <typename T>
__device__ __forceinline__ T to_t(float f);
template <>
__device__ __forceinline__ __half to_t<__half>(float f) { return __float2half_rn(f); }
template <>
__device__ __forceinline__ __nv_bfloat16 to_t<__nv_bfloat16>(float f) { return __float2bfloat16_rn(f); }

// Registers holding one thread's share of the next A and B tiles.
template <typename T>
struct Staged {
    T a[8];
    T b[16];
};

// A: thread t loads row t / 4, columns (t % 4) * 8 .. + 8 of the tile.
template <bool CONV, typename T>
__device__ __forceinline__ void load_a(const Problem& P, const ARow& r, int k0, bool vec, Staged<T>& s) {
    int k = k0 + (threadIdx.x & 3) * 8;
    if (!CONV && vec && r.valid && k + 8 <= P.K) {
        float4 v0 = __ldg(reinterpret_cast<const float4*>(r.p + k));
        float4 v1 = __ldg(reinterpret_cast<const float4*>(r.p + k) + 1);
        s.a[0] = to_t<T>(v0.x);
        s.a[1] = to_t<T>(v0.y);
        s.a[2] = to_t<T>(v0.z);
        s.a[3] = to_t<T>(v0.w);
        s.a[4] = to_t<T>(v1.x);
        s.a[5] = to_t<T>(v1.y);
        s.a[6] = to_t<T>(v1.z);
        s.a[7] = to_t<T>(v1.w);
    } else {
#pragma unroll
        for (int j = 0; j < 8; j++) s.a[j] = to_t<T>(a_at<CONV>(P, r, k + j));
    }
}

template <typename T>
__device__ __forceinline__ void store_a(T* As, const Staged<T>& s) {
    T* dst = As + (threadIdx.x >> 2) * LDS + (threadIdx.x & 3) * 8;
#pragma unroll
    for (int j = 0; j < 8; j++) dst[j] = s.a[j];
}

// B (weights [N][K]): dense 16-bit rows with K % 8 == 0 -> two 16-byte chunks per thread
// (row c / 4, columns (c % 4) * 8 for c = t, t + 256); quantised -> half a block per thread
// (row t / 2, elements (t % 2) * 16 .. + 16); otherwise element e = t + 256 i at (e / 32, e % 32).
template <int WDT, typename T>
__device__ __forceinline__ void load_b(const Problem& P, int n0, int k0, bool vec, Staged<T>& s) {
    if (WDT == DT_Q8_0 || WDT == DT_Q4_0) {
        int row = threadIdx.x >> 1, part = threadIdx.x & 1;
        int n = n0 + row;
        if (n >= P.N) {
#pragma unroll
            for (int j = 0; j < 16; j++) s.b[j] = to_t<T>(0.0f);
            return;
        }
        long long block = ((long long) n * P.K + k0) / 32;
        if (WDT == DT_Q8_0) {
            const BlockQ8_0& b = static_cast<const BlockQ8_0*>(P.w)[block];
            float d = half_bits(b.d);
#pragma unroll
            for (int j = 0; j < 16; j++) s.b[j] = to_t<T>(d * (float) b.qs[part * 16 + j]);
        } else {
            const BlockQ4_0& b = static_cast<const BlockQ4_0*>(P.w)[block];
            float d = half_bits(b.d);
#pragma unroll
            for (int j = 0; j < 16; j++) {
                int q = part == 0 ? (b.qs[j] & 15) : (b.qs[j] >> 4);
                s.b[j] = to_t<T>(d * (float) (q - 8));
            }
        }
    } else if (vec) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            int c = threadIdx.x + i * THREADS;
            int n = n0 + (c >> 2), k = k0 + (c & 3) * 8;
            if (n < P.N && k < P.K) {
                uint4 raw = __ldg(reinterpret_cast<const uint4*>(static_cast<const unsigned short*>(P.w) + (long long) n * P.K + k));
                const T* v = reinterpret_cast<const T*>(&raw);
#pragma unroll
                for (int j = 0; j < 8; j++) s.b[i * 8 + j] = v[j];
            } else {
#pragma unroll
                for (int j = 0; j < 8; j++) s.b[i * 8 + j] = to_t<T>(0.0f);
            }
        }
    } else {
#pragma unroll
        for (int i = 0; i < 16; i++) {
            int e = threadIdx.x + i * THREADS;
            s.b[i] = to_t<T>(b_at<WDT>(P, n0 + e / BK, k0 + e % BK));
        }
    }
}

template <int WDT, typename T>
__device__ __forceinline__ void store_b(T* Bs, bool vec, const Staged<T>& s) {
    if (WDT == DT_Q8_0 || WDT == DT_Q4_0) {
        T* dst = Bs + (threadIdx.x >> 1) * LDS + (threadIdx.x & 1) * 16;
#pragma unroll
        for (int j = 0; j < 16; j++) dst[j] = s.b[j];
    } else if (vec) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            int c = threadIdx.x + i * THREADS;
            T* dst = Bs + (c >> 2) * LDS + (c & 3) * 8;
#pragma unroll
            for (int j = 0; j < 8; j++) dst[j] = s.b[i * 8 + j];
        }
    } else {
#pragma unroll
        for (int i = 0; i < 16; i++) {
            int e = threadIdx.x + i * THREADS;
            Bs[(e / BK) * LDS + e % BK] = s.b[i];
        }
    }
}

template <bool CONV, int WDT, typename T>
__device__ void gemm_wmma(const Problem& P) {
    __shared__ __align__(32) unsigned char smem[BM * LDC * 4];  // A/B double buffers, then the C tile
    static_assert(2 * (A_TILE + B_TILE) * 2 <= BM * LDC * 4, "tiles fit the C staging area");
    T* As = reinterpret_cast<T*>(smem);
    T* Bs = As + 2 * A_TILE;
    float* Cs = reinterpret_cast<float*>(smem);

    int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    int warp = threadIdx.x >> 5;
    int wm = warp >> 2, wn = warp & 3;  // warp tile (wm * 32, wn * 32)

    ARow row = a_row<CONV>(P, m0 + (threadIdx.x >> 2));
    bool avec = !CONV && aligned16(P.x) && P.xs % 4 == 0 && P.K % 4 == 0;
    bool bvec = (WDT == DT_F16 || WDT == DT_BF16) && aligned16(P.w) && P.K % 8 == 0;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    int tiles = (P.K + BK - 1) / BK;
    Staged<T> st;
    load_a<CONV, T>(P, row, 0, avec, st);
    load_b<WDT, T>(P, n0, 0, bvec, st);
    store_a<T>(As, st);
    store_b<WDT, T>(Bs, bvec, st);
    __syncthreads();

    for (int t = 0; t < tiles; t++) {
        int cur = t & 1;
        bool more = t + 1 < tiles;
        if (more) {  // issue the next tile's global loads before this tile's MMAs
            load_a<CONV, T>(P, row, (t + 1) * BK, avec, st);
            load_b<WDT, T>(P, n0, (t + 1) * BK, bvec, st);
        }
        const T* a = As + cur * A_TILE;
        const T* b = Bs + cur * B_TILE;
#pragma unroll
        for (int ks = 0; ks < BK; ks += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], a + (wm * 32 + i * 16) * LDS + ks, LDS);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], b + (wn * 32 + j * 16) * LDS + ks, LDS);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        if (more) {
            store_a<T>(As + (1 - cur) * A_TILE, st);
            store_b<WDT, T>(Bs + (1 - cur) * B_TILE, bvec, st);
        }
        __syncthreads();
    }

    // The tiles are dead now: reuse their space for the fp32 output tile.
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(Cs + (wm * 32 + i * 16) * LDC + wn * 32 + j * 16, acc[i][j], LDC, wmma::mem_row_major);
    __syncthreads();
    for (int e = threadIdx.x; e < BM * BN; e += THREADS) {
        int r = e / BN, c = e % BN;
        int m = m0 + r, n = n0 + c;
        if (m < P.M && n < P.N) {
            float v = Cs[r * LDC + c];
            if (P.bias != nullptr) v += P.bias[n];
            P.out[m * P.os + n] = v;
        }
    }
}

// ------------------------------------------------------------------ plain fp32 tiles

constexpr int SM = 64, SN = 64, SK = 16;

template <bool CONV>
__device__ void gemm_simt(const Problem& P) {
    __shared__ __align__(16) float As[SK][SM + 4];
    __shared__ __align__(16) float Bs[SK][SN + 4];
    int m0 = blockIdx.y * SM, n0 = blockIdx.x * SN;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;  // 16 x 16 threads, 4 x 4 outputs each
    int lr = threadIdx.x >> 2, lk = (threadIdx.x & 3) * 4;  // loader: row lr, columns lk .. lk + 4
    ARow row = a_row<CONV>(P, m0 + lr);
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < P.K; k0 += SK) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            As[lk + j][lr] = a_at<CONV>(P, row, k0 + lk + j);
            Bs[lk + j][lr] = b_at<DT_F32>(P, n0 + lr, k0 + lk + j);
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < SK; k++) {
            float4 a = *reinterpret_cast<const float4*>(&As[k][ty * 4]);
            float4 b = *reinterpret_cast<const float4*>(&Bs[k][tx * 4]);
            float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += av[i] * bv[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + ty * 4 + i;
        if (m >= P.M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int n = n0 + tx * 4 + j;
            if (n < P.N) P.out[m * P.os + n] = acc[i][j] + (P.bias != nullptr ? P.bias[n] : 0.0f);
        }
    }
}

__device__ __forceinline__ Problem dense_problem(const float* x, long long xs, const void* w, const float* bias, float* out,
                                                  long long os, int M, int N, int K) {
    Problem P;
    P.x = x;
    P.xs = xs;
    P.g = ConvGeom{0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    P.w = w;
    P.bias = bias;
    P.out = out;
    P.os = os;
    P.M = M;
    P.N = N;
    P.K = K;
    return P;
}

// Conv output [N * Ho * Wo, O] contiguous; K = C * kh * kw.
__device__ __forceinline__ Problem conv_problem(const float* x, ConvGeom g, const void* w, const float* bias, float* out, int O) {
    Problem P = dense_problem(x, 0, w, bias, out, O, g.N * g.Ho * g.Wo, O, g.C * g.kh * g.kw);
    P.g = g;
    return P;
}

}  // namespace

// Launch geometry of the tensor-core kernels: grid (ceil(N / 128), ceil(M / 64)), block 256.
// One entry per weight dtype, so that each kernel holds a single 33 KB shared tile.
extern "C" __global__ void __launch_bounds__(256, 2) gemm_wmma_f16(const float* x, long long xs, const void* w, const float* bias,
                                                                float* out, long long os, int M, int N, int K) {
    gemm_wmma<false, DT_F16, __half>(dense_problem(x, xs, w, bias, out, os, M, N, K));
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_wmma_bf16(const float* x, long long xs, const void* w, const float* bias,
                                                                 float* out, long long os, int M, int N, int K) {
    gemm_wmma<false, DT_BF16, __nv_bfloat16>(dense_problem(x, xs, w, bias, out, os, M, N, K));
}

// Quantised weights are dequantised to half while staged (K a multiple of 32).
extern "C" __global__ void __launch_bounds__(256, 2) gemm_wmma_q8_0(const float* x, long long xs, const void* w, const float* bias,
                                                                 float* out, long long os, int M, int N, int K) {
    gemm_wmma<false, DT_Q8_0, __half>(dense_problem(x, xs, w, bias, out, os, M, N, K));
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_wmma_q4_0(const float* x, long long xs, const void* w, const float* bias,
                                                                 float* out, long long os, int M, int N, int K) {
    gemm_wmma<false, DT_Q4_0, __half>(dense_problem(x, xs, w, bias, out, os, M, N, K));
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_wmma_f16(const float* x, ConvGeom g, const void* w, const float* bias,
                                                                  float* out, int O) {
    gemm_wmma<true, DT_F16, __half>(conv_problem(x, g, w, bias, out, O));
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_wmma_bf16(const float* x, ConvGeom g, const void* w, const float* bias,
                                                                   float* out, int O) {
    gemm_wmma<true, DT_BF16, __nv_bfloat16>(conv_problem(x, g, w, bias, out, O));
}

// Plain fp32 path: grid (ceil(N / 64), ceil(M / 64)), block 256.
extern "C" __global__ void __launch_bounds__(256) gemm_f32(const float* x, long long xs, const float* w, const float* bias,
                                                           float* out, long long os, int M, int N, int K) {
    gemm_simt<false>(dense_problem(x, xs, w, bias, out, os, M, N, K));
}

extern "C" __global__ void __launch_bounds__(256) conv2d_f32(const float* x, ConvGeom g, const float* w, const float* bias,
                                                             float* out, int O) {
    gemm_simt<true>(conv_problem(x, g, w, bias, out, O));
}
