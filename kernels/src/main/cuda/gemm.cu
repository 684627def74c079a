// GEMM, the prefill / vision shape of Backend.matmul (out[M, N] = x[M, K] . w[N, K]^T + bias), and
// conv2d as an implicit GEMM over the same tiles (A[m][k] gathered from an NHWC image).
//
// Tensor-core path (WMMA m16n16k16 in bfloat16, fp32 accumulation) for F16 / BF16 / Q8_0 / Q4_0
// weights, with the products of fp32 arithmetic (see below). Tiles: 64 x 64 x 32 per block of 4 warps, each
// warp 32 x 32 (2 x 2 fragments); double-buffered shared tiles fed through registers so that the
// next tile's global loads overlap the current MMAs.
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
//
// Products are those of fp32 arithmetic whatever the weight dtype, so that the tensor-core path
// keeps Backend.matmul's contract (fp32 activations, exact weights, fp32 sums):
//  - activations are split into three bfloat16 terms x = x1 + x2 + x3, exactly (bfloat16 keeps 8
//    significant bits, so two terms would keep only 16; truncated terms, see common.cuh), and all
//    three are multiplied;
//  - BF16 weights are exact in bfloat16; F16 weights are split exactly into w1 + w2 (an fp16
//    mantissa has 11 bits) and the products below fp32 resolution (x3 w2) are dropped: 5 MMAs;
//  - Q8_0 / Q4_0 weights enter as their integer quants (exact in bfloat16); each 32-wide K tile is
//    one quant block, whose per-row scale d multiplies that tile's partial sums before they are
//    added up. The scale of an accumulator element is found through a fragment loaded from a
//    matrix of column indices, since WMMA's element layout is unspecified.
// With exact = 0 only x1 is used (activations rounded to bfloat16, as cuBLAS-based engines do).

namespace wmma = nvcuda::wmma;
typedef __nv_bfloat16 bf16;

constexpr int BM = 64, BN = 64, BK = 32;
constexpr int LDS = BK + 8;   // shared row stride of A and B tiles (elements): 80 bytes, keeps 32-byte fragment alignment
constexpr int LDC = BN + 4;   // shared row stride of the fp32 output tile
constexpr int THREADS = 128;  // 4 warps, 2 x 2, each 32 x 32
constexpr int TILE = BM * LDS;  // elements of one A or B tile (BM == BN)
constexpr int XTERMS = 3, WTERMS = 2;
// Dynamic shared memory: A [2 buffers][3 terms], B [2 buffers][2 terms] tiles, then the quant
// scales [2][BN] and the column-index matrix [16][16] (fp32). The fp32 C tile overlays A at the end.
constexpr int SMEM_A = 2 * XTERMS * TILE * 2, SMEM_B = 2 * WTERMS * TILE * 2;
constexpr int SMEM_BYTES = SMEM_A + SMEM_B + 2 * BN * 4 + 256 * 4;
static_assert(SMEM_BYTES == 52736, "LinearOps.GEMM_SHARED_BYTES (the launch's dynamic shared memory) must match");
static_assert(BM * LDC * 4 <= SMEM_A, "the C tile fits the A area");

struct Staged {
    float a[16];    // x values, this thread's 16 elements of the A tile
    float b[16];    // weight values (quants for Q8_0 / Q4_0)
    float d;        // quant scale of this thread's B row
};

// A: thread t loads row t / 2, columns (t % 2) * 16 .. + 16 of the tile.
template <bool CONV>
__device__ __forceinline__ void load_a(const Problem& P, const ARow& r, int k0, bool vec, Staged& s) {
    int k = k0 + (threadIdx.x & 1) * 16;
    if (!CONV && vec && r.valid && k + 16 <= P.K) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            float4 v = __ldg(reinterpret_cast<const float4*>(r.p + k) + j);
            s.a[4 * j] = v.x;
            s.a[4 * j + 1] = v.y;
            s.a[4 * j + 2] = v.z;
            s.a[4 * j + 3] = v.w;
        }
    } else {
#pragma unroll
        for (int j = 0; j < 16; j++) s.a[j] = a_at<CONV>(P, r, k + j);
    }
}

// Stores the A values as their three bfloat16 terms (tile t holds term t), or rounded to the
// nearest bfloat16 in the first tile when not exact.
__device__ __forceinline__ void store_a(bf16* a0, const Staged& s, int exact) {
    int at = (threadIdx.x >> 1) * LDS + (threadIdx.x & 1) * 16;
#pragma unroll
    for (int j = 0; j < 16; j++) {
        float v = s.a[j];
        if (!exact) {
            a0[at + j] = bf16_nearest(v);
            continue;
        }
#pragma unroll
        for (int t = 0; t < XTERMS; t++) {
            bf16 h = bf16_term(v);
            a0[t * TILE + at + j] = h;
            v = bf16_rest(v, h);
        }
    }
}

// B (weights [N][K]): thread t loads row t / 2, columns (t % 2) * 16 .. + 16 of the tile.
template <int WDT>
__device__ __forceinline__ void load_b(const Problem& P, int n0, int k0, bool vec, Staged& s) {
    int n = n0 + (threadIdx.x >> 1);
    int part = threadIdx.x & 1;
    int k = k0 + part * 16;
    s.d = 0.0f;
    if (n >= P.N) {
#pragma unroll
        for (int j = 0; j < 16; j++) s.b[j] = 0.0f;
        return;
    }
    if (WDT == DT_Q8_0 || WDT == DT_Q4_0) {
        long long block = ((long long) n * P.K + k0) / 32;
        if (WDT == DT_Q8_0) {
            const BlockQ8_0& b = static_cast<const BlockQ8_0*>(P.w)[block];
            s.d = half_bits(b.d);
#pragma unroll
            for (int j = 0; j < 16; j++) s.b[j] = (float) b.qs[part * 16 + j];
        } else {
            const BlockQ4_0& b = static_cast<const BlockQ4_0*>(P.w)[block];
            s.d = half_bits(b.d);
#pragma unroll
            for (int j = 0; j < 16; j++) s.b[j] = (float) ((part == 0 ? (b.qs[j] & 15) : (b.qs[j] >> 4)) - 8);
        }
    } else if (vec && k + 16 <= P.K) {
        const uint4* src = reinterpret_cast<const uint4*>(static_cast<const unsigned short*>(P.w) + (long long) n * P.K + k);
#pragma unroll
        for (int c = 0; c < 2; c++) {
            uint4 raw = __ldg(src + c);
            unsigned u[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
            for (int i = 0; i < 4; i++) {
                unsigned short lo16 = (unsigned short) (u[i] & 0xFFFFu), hi16 = (unsigned short) (u[i] >> 16);
                s.b[c * 8 + 2 * i] = WDT == DT_BF16 ? bf16_bits(lo16) : half_bits(lo16);
                s.b[c * 8 + 2 * i + 1] = WDT == DT_BF16 ? bf16_bits(hi16) : half_bits(hi16);
            }
        }
    } else {
#pragma unroll
        for (int j = 0; j < 16; j++) s.b[j] = b_at<WDT>(P, n, k + j);
    }
}

// Stores B as bfloat16: exact for BF16 and quants; F16 as its exact two terms (b0, b0 + TILE).
// A tile holding an Inf / NaN weight is marked (*nonfinite = tile), see gemm_wmma.
template <int WDT>
__device__ __forceinline__ void store_b(bf16* b0, float* dscale, const Staged& s, int* nonfinite, int tile) {
    int at = (threadIdx.x >> 1) * LDS + (threadIdx.x & 1) * 16;
    bool special = false;
#pragma unroll
    for (int j = 0; j < 16; j++) {
        bf16 h = bf16_term(s.b[j]);  // BF16 weights and quants are exact; F16 ones need two terms
        b0[at + j] = h;
        if (WDT == DT_F16) b0[TILE + at + j] = bf16_term(bf16_rest(s.b[j], h));
        special |= !isfinite(s.b[j]);
    }
    if (special) *nonfinite = tile;
    if ((WDT == DT_Q8_0 || WDT == DT_Q4_0) && (threadIdx.x & 1) == 0) dscale[threadIdx.x >> 1] = s.d;
}

// Sets this thread's Inf / NaN weights of a stored B tile (first term) to zero.
__device__ __forceinline__ void zero_nonfinite_b(bf16* b0) {
    int at = (threadIdx.x >> 1) * LDS + (threadIdx.x & 1) * 16;
#pragma unroll
    for (int j = 0; j < 16; j++) {
        if (!isfinite(__bfloat162float(b0[at + j]))) b0[at + j] = __float2bfloat16_rz(0.0f);
    }
}

typedef wmma::fragment<wmma::accumulator, 16, 16, 16, float> Acc;
typedef wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> FragA;
typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> FragB;

// target += the products of activation terms [from, to) with the B tile (and, for F16, the
// weights' second term with the activation's first two terms), over the tile's BK columns.
template <int WDT>
__device__ __forceinline__ void mma_terms(const bf16* a, const bf16* b, int from, int to, int wm, int wn, Acc (&target)[2][2]) {
#pragma unroll
    for (int ks = 0; ks < BK; ks += 16) {
        FragB fb[2], fl[2];
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::load_matrix_sync(fb[j], b + (wn * 32 + j * 16) * LDS + ks, LDS);
            if (WDT == DT_F16) wmma::load_matrix_sync(fl[j], b + TILE + (wn * 32 + j * 16) * LDS + ks, LDS);
        }
#pragma unroll
        for (int term = 0; term < XTERMS; term++) {
            if (term < from || term >= to) continue;
            FragA fa[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], a + term * TILE + (wm * 32 + i * 16) * LDS + ks, LDS);
#pragma unroll
            for (int i = 0; i < 2; i++) {
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    wmma::mma_sync(target[i][j], fa[i], fb[j], target[i][j]);
                    if (WDT == DT_F16 && term < 2) wmma::mma_sync(target[i][j], fa[i], fl[j], target[i][j]);
                }
            }
        }
    }
}

template <bool CONV, int WDT>
__device__ void gemm_wmma(const Problem& P, int exact) {
    constexpr bool QUANT = WDT == DT_Q8_0 || WDT == DT_Q4_0;
    MGM_DYNAMIC_SHARED(unsigned char, smem);
    bf16* As = reinterpret_cast<bf16*>(smem);                 // [buffer][term][BM][LDS]
    bf16* Bs = reinterpret_cast<bf16*>(smem + SMEM_A);        // [buffer][term][BN][LDS]
    float* dscale = reinterpret_cast<float*>(smem + SMEM_A + SMEM_B);  // [buffer][BN]
    float* colidx = dscale + 2 * BN;                          // [16][16]
    float* Cs = reinterpret_cast<float*>(smem);
    const int xterms = exact ? XTERMS : 1;

    int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    int warp = threadIdx.x >> 5;
    int wm = warp >> 1, wn = warp & 1;  // warp tile (wm * 32, wn * 32)

    ARow row = a_row<CONV>(P, m0 + (threadIdx.x >> 1));
    bool avec = !CONV && aligned16(P.x) && P.xs % 4 == 0 && P.K % 4 == 0;
    bool bvec = (WDT == DT_F16 || WDT == DT_BF16) && aligned16(P.w) && P.K % 8 == 0;

    Acc acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);
    Acc cols;  // element e of this fragment lies in tile column (int) cols.x[e]
    __shared__ int nonfinite[2];  // per B buffer: the index of the tile stored there if it holds an Inf / NaN weight
    if (threadIdx.x == 0) nonfinite[0] = nonfinite[1] = -1;
    if (QUANT) {
        for (int e = threadIdx.x; e < 256; e += THREADS) colidx[e] = (float) (e % 16);
    }
    __syncthreads();
    if (QUANT) wmma::load_matrix_sync(cols, colidx, 16, wmma::mem_row_major);

    int tiles_k = (P.K + BK - 1) / BK;
    Staged st;
    load_a<CONV>(P, row, 0, avec, st);
    load_b<WDT>(P, n0, 0, bvec, st);
    store_a(As, st, exact);
    store_b<WDT>(Bs, dscale, st, &nonfinite[0], 0);
    __syncthreads();

    for (int t = 0; t < tiles_k; t++) {
        int cur = t & 1;
        bool more = t + 1 < tiles_k;
        if (more) {  // issue the next tile's global loads before this tile's MMAs
            load_a<CONV>(P, row, (t + 1) * BK, avec, st);
            load_b<WDT>(P, n0, (t + 1) * BK, bvec, st);
        }
        const bf16* a = As + cur * XTERMS * TILE;
        const bf16* b = Bs + cur * WTERMS * TILE;
        Acc part[2][2];
        if (QUANT) {
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::fill_fragment(part[i][j], 0.0f);
        }
        if (!QUANT && xterms > 1 && nonfinite[cur] == t) {
            // A weight of this tile is Inf / NaN. The activation's second and third terms are often
            // exactly zero, and 0 * Inf would turn the sum into NaN where x * Inf is +-Inf: multiply
            // those terms by the tile with its non-finite weights set to zero (they carry nothing of a
            // non-finite product anyway). A block-uniform branch: the flag is in shared memory.
            mma_terms<WDT>(a, b, 0, 1, wm, wn, acc);
            __syncthreads();
            zero_nonfinite_b(Bs + cur * WTERMS * TILE);
            __syncthreads();
            mma_terms<WDT>(a, b, 1, xterms, wm, wn, acc);
        } else {
            if (QUANT) {
                mma_terms<WDT>(a, b, 0, xterms, wm, wn, part);
            } else {
                mma_terms<WDT>(a, b, 0, xterms, wm, wn, acc);
            }
        }
        if (QUANT) {  // acc += d[column] * partial sums of this quant block
            const float* d = dscale + cur * BN + wn * 32;
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++)
#pragma unroll
                    for (int e = 0; e < Acc::num_elements; e++)
                        acc[i][j].x[e] += d[j * 16 + (int) cols.x[e]] * part[i][j].x[e];
        }
        if (more) {
            store_a(As + (1 - cur) * XTERMS * TILE, st, exact);
            store_b<WDT>(Bs + (1 - cur) * WTERMS * TILE, dscale + (1 - cur) * BN, st, &nonfinite[1 - cur], t + 1);
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

// Launch geometry of the tensor-core kernels: grid (ceil(N / 64), ceil(M / 64)), block 128,
// dynamic shared memory SMEM_BYTES (52736, LinearOps.GEMM_SHARED_BYTES). exact: 1 keeps fp32 products (the default), 0 rounds
// activations to bfloat16.
extern "C" __global__ void __launch_bounds__(128) gemm_wmma_f16(const float* x, long long xs, const void* w, const float* bias,
                                                           float* out, long long os, int M, int N, int K, int exact) {
    gemm_wmma<false, DT_F16>(dense_problem(x, xs, w, bias, out, os, M, N, K), exact);
}

extern "C" __global__ void __launch_bounds__(128) gemm_wmma_bf16(const float* x, long long xs, const void* w, const float* bias,
                                                            float* out, long long os, int M, int N, int K, int exact) {
    gemm_wmma<false, DT_BF16>(dense_problem(x, xs, w, bias, out, os, M, N, K), exact);
}

// Quantised weights: K a multiple of 32 (one quant block per K tile).
extern "C" __global__ void __launch_bounds__(128) gemm_wmma_q8_0(const float* x, long long xs, const void* w, const float* bias,
                                                            float* out, long long os, int M, int N, int K, int exact) {
    gemm_wmma<false, DT_Q8_0>(dense_problem(x, xs, w, bias, out, os, M, N, K), exact);
}

extern "C" __global__ void __launch_bounds__(128) gemm_wmma_q4_0(const float* x, long long xs, const void* w, const float* bias,
                                                            float* out, long long os, int M, int N, int K, int exact) {
    gemm_wmma<false, DT_Q4_0>(dense_problem(x, xs, w, bias, out, os, M, N, K), exact);
}

extern "C" __global__ void __launch_bounds__(128) conv2d_wmma_f16(const float* x, ConvGeom g, const void* w, const float* bias,
                                                             float* out, int O, int exact) {
    gemm_wmma<true, DT_F16>(conv_problem(x, g, w, bias, out, O), exact);
}

extern "C" __global__ void __launch_bounds__(128) conv2d_wmma_bf16(const float* x, ConvGeom g, const void* w, const float* bias,
                                                              float* out, int O, int exact) {
    gemm_wmma<true, DT_BF16>(conv_problem(x, g, w, bias, out, O), exact);
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
