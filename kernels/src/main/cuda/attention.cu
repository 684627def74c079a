// Scaled dot-product attention (Backend.attention): q [T, Hq, Dh] F32, k / v [S, Hkv, Dh] in F32,
// F16 or BF16 (KV-cache views: token and head strides free, unit stride along Dh), out [T, Hq, Dh].
// Query head h reads kv head h / (Hq / Hkv). Softmax in fp32 with a running max (online softmax).
//
//  - decode (T = 1, Dh <= 256): split-K over the keys ("flash decoding"): each block takes a
//    chunk of keys for up to 8 query heads that share a kv head, so K/V are read once per group;
//    attn_decode_merge combines the chunks.
//  - prefill (T > 1, Dh <= 256): flash-attention tiles of 32 queries x 32 keys, 4 warps x 8
//    query rows, causal tiles beyond the block's last query skipped.
//  - any shape with Dh <= 1024 (attn_rowwise): one block per (query, head), 8 warps over keys.
#include "common.cuh"

using namespace mgm;

namespace {

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

__device__ __forceinline__ float kv_at(const void* base, long long e, int dt) {
    if (dt == DT_F16) return half_bits(static_cast<const unsigned short*>(base)[e]);
    if (dt == DT_BF16) return bf16_bits(static_cast<const unsigned short*>(base)[e]);
    return static_cast<const float*>(base)[e];
}

// Rows [j0, j0 + rows) of head hk of a K or V view into tile[r * ld + d]; rows >= `rows` are zero.
// 16-byte loads when rows and the base allow it.
__device__ void load_kv_tile(float* tile, int ld, int tile_rows, const void* base, int dt, long long ss, long long sh, int hk,
                             int j0, int rows, int Dh) {
    int es = dt == DT_F32 ? 4 : 2;
    int per = 16 / es;
    bool vec = aligned16(base) && Dh % per == 0 && ss % per == 0 && sh % per == 0;
    if (vec) {
        int chunks = Dh / per;
        for (int e = threadIdx.x; e < tile_rows * chunks; e += blockDim.x) {
            int r = e / chunks, c = e - r * chunks;
            float* dst = tile + r * ld + c * per;
            if (r >= rows) {
                for (int i = 0; i < per; i++) dst[i] = 0.0f;
                continue;
            }
            long long at = (long long) (j0 + r) * ss + (long long) hk * sh + c * per;
            uint4 raw = __ldg(reinterpret_cast<const uint4*>(static_cast<const unsigned char*>(base) + at * es));
            unsigned u[4] = {raw.x, raw.y, raw.z, raw.w};
            if (dt == DT_F32) {
                for (int i = 0; i < 4; i++) dst[i] = __uint_as_float(u[i]);
            } else if (dt == DT_BF16) {
                for (int i = 0; i < 4; i++) {
                    dst[2 * i] = __uint_as_float(u[i] << 16);
                    dst[2 * i + 1] = __uint_as_float(u[i] & 0xFFFF0000u);
                }
            } else {
                for (int i = 0; i < 4; i++) {
                    dst[2 * i] = half_bits((unsigned short) (u[i] & 0xFFFFu));
                    dst[2 * i + 1] = half_bits((unsigned short) (u[i] >> 16));
                }
            }
        }
    } else {
        for (int e = threadIdx.x; e < tile_rows * Dh; e += blockDim.x) {
            int r = e / Dh, d = e - r * Dh;
            tile[r * ld + d] = r < rows ? kv_at(base, (long long) (j0 + r) * ss + (long long) hk * sh + d, dt) : 0.0f;
        }
    }
}

constexpr int DEC_TILE = 32;
constexpr int DEC_MAX_PAIRS_PER_THREAD = 16;  // (heads per block) * Dh <= 16 * 128

}  // namespace

// Grid (Hq / gb, nsplit), block 128, dynamic shared (gb*Dh + 32*(Dh+1) + gb*32 + 3*gb) floats.
// Block (x, y): query heads [x*gb, x*gb + gb) (one kv head), keys [y*chunk, min(S, y*chunk + chunk)).
// Writes unnormalised partial outputs part_o[(h * nsplit + y) * Dh + d] and (max, sum) pairs.
extern "C" __global__ void __launch_bounds__(128) attn_decode_split(const float* q, long long q_sh, const void* k,
                                                                    const void* v, int kv_dtype, long long k_ss, long long k_sh,
                                                                    long long v_ss, long long v_sh, float scale, int S,
                                                                    int Hq, int Hkv, int Dh, int gb, int chunk,
                                                                    float* part_o, float* part_ml) {
    MGM_DYNAMIC_SHARED(float, sm);
    float* qs = sm;
    float* tile = qs + gb * Dh;
    float* p = tile + DEC_TILE * (Dh + 1);
    float* alpha = p + gb * DEC_TILE;
    float* mrun = alpha + gb;
    float* lrun = mrun + gb;
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int group = Hq / Hkv;
    int h0 = blockIdx.x * gb;
    int hk = h0 / group;
    int split = blockIdx.y, nsplit = gridDim.y;
    int j_begin = split * chunk;
    int j_end = min(S, j_begin + chunk);
    int pairs = gb * Dh;

    for (int e = tid; e < pairs; e += blockDim.x) qs[e] = q[(long long) (h0 + e / Dh) * q_sh + e % Dh] * scale;
    if (tid < gb) {
        mrun[tid] = -INFINITY;
        lrun[tid] = 0.0f;
    }
    float acc[DEC_MAX_PAIRS_PER_THREAD];
#pragma unroll
    for (int c = 0; c < DEC_MAX_PAIRS_PER_THREAD; c++) acc[c] = 0.0f;
    __syncthreads();

    for (int j0 = j_begin; j0 < j_end; j0 += DEC_TILE) {
        int rows = min(DEC_TILE, j_end - j0);
        load_kv_tile(tile, Dh + 1, DEC_TILE, k, kv_dtype, k_ss, k_sh, hk, j0, rows, Dh);
        __syncthreads();
        for (int e = tid; e < gb * DEC_TILE; e += blockDim.x) {
            int h = e / DEC_TILE, j = e % DEC_TILE;
            float s = -INFINITY;
            if (j < rows) {
                s = 0.0f;
                const float* qh = qs + h * Dh;
                const float* kj = tile + j * (Dh + 1);
                for (int d = 0; d < Dh; d++) s += qh[d] * kj[d];
            }
            p[e] = s;
        }
        __syncthreads();
        for (int h = warp; h < gb; h += blockDim.x / 32) {
            float s = p[h * DEC_TILE + lane];
            float mold = mrun[h];
            float mnew = fmaxf(mold, warp_max(s));
            float e = s == -INFINITY ? 0.0f : expf(s - mnew);
            float sum = warp_sum(e);
            p[h * DEC_TILE + lane] = e;
            if (lane == 0) {
                float a = mold == -INFINITY ? 0.0f : expf(mold - mnew);
                alpha[h] = a;
                lrun[h] = lrun[h] * a + sum;
                mrun[h] = mnew;
            }
        }
        __syncthreads();
        load_kv_tile(tile, Dh + 1, DEC_TILE, v, kv_dtype, v_ss, v_sh, hk, j0, rows, Dh);
        __syncthreads();
#pragma unroll
        for (int c = 0; c < DEC_MAX_PAIRS_PER_THREAD; c++) {
            int e = tid + c * blockDim.x;
            if (e < pairs) {
                int h = e / Dh, d = e % Dh;
                const float* ph = p + h * DEC_TILE;
                float a = acc[c] * alpha[h];
                for (int j = 0; j < rows; j++) a += ph[j] * tile[j * (Dh + 1) + d];
                acc[c] = a;
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int c = 0; c < DEC_MAX_PAIRS_PER_THREAD; c++) {
        int e = tid + c * blockDim.x;
        if (e < pairs) part_o[((long long) (h0 + e / Dh) * nsplit + split) * Dh + e % Dh] = acc[c];
    }
    if (tid < gb) {
        part_ml[((long long) (h0 + tid) * nsplit + split) * 2] = mrun[tid];
        part_ml[((long long) (h0 + tid) * nsplit + split) * 2 + 1] = lrun[tid];
    }
}

// Grid Hq, block 128: out[h, :] = sum_s part_o[h, s, :] e^(m_s - M) / sum_s l_s e^(m_s - M).
extern "C" __global__ void attn_decode_merge(const float* part_o, const float* part_ml, int nsplit, int Dh, float* out,
                                             long long out_sh) {
    int h = blockIdx.x;
    const float* ml = part_ml + (long long) h * nsplit * 2;
    float M = -INFINITY;
    for (int s = 0; s < nsplit; s++) M = fmaxf(M, ml[2 * s]);
    float L = 0.0f;
    for (int s = 0; s < nsplit; s++) L += ml[2 * s] == -INFINITY ? 0.0f : ml[2 * s + 1] * expf(ml[2 * s] - M);
    float inv = 1.0f / L;
    for (int d = threadIdx.x; d < Dh; d += blockDim.x) {
        float o = 0.0f;
        for (int s = 0; s < nsplit; s++) {
            if (ml[2 * s] != -INFINITY) o += part_o[((long long) h * nsplit + s) * Dh + d] * expf(ml[2 * s] - M);
        }
        out[h * out_sh + d] = o * inv;
    }
}

namespace {

constexpr int FA_BQ = 32, FA_TK = 32, FA_ROWS = 8;  // 4 warps x 8 query rows

struct AttnArgs {
    const float* q;
    long long q_st, q_sh;
    const void* k;
    const void* v;
    int dt;
    long long k_ss, k_sh, v_ss, v_sh;
    float* out;
    long long o_st, o_sh;
    float scale;
    int causal, query_start, T, S, Hq, Hkv, Dh;
};

// DC = ceil(Dh / 32): output columns per lane.
template <int DC>
__device__ void flash_prefill(const AttnArgs& A) {
    MGM_DYNAMIC_SHARED(float, sm);
    const int Dh = A.Dh;
    float* Qs = sm;                    // [BQ][Dh], pre-scaled
    float* KV = Qs + FA_BQ * Dh;       // [TK][Dh + 1]
    float* P = KV + FA_TK * (Dh + 1);  // [BQ][TK + 1]
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int h = blockIdx.y, hk = h / (A.Hq / A.Hkv);
    int t0 = blockIdx.x * FA_BQ;

    for (int e = threadIdx.x; e < FA_BQ * Dh; e += blockDim.x) {
        int r = e / Dh, d = e - r * Dh;
        int t = t0 + r;
        Qs[e] = t < A.T ? A.q[t * A.q_st + h * A.q_sh + d] * A.scale : 0.0f;
    }
    float o[FA_ROWS][DC];
    float m[FA_ROWS], l[FA_ROWS];
#pragma unroll
    for (int i = 0; i < FA_ROWS; i++) {
        m[i] = -INFINITY;
        l[i] = 0.0f;
#pragma unroll
        for (int c = 0; c < DC; c++) o[i][c] = 0.0f;
    }
    int last_t = min(t0 + FA_BQ, A.T) - 1;
    int kend = A.causal ? min(A.S, A.query_start + last_t + 1) : A.S;
    __syncthreads();

    for (int j0 = 0; j0 < kend; j0 += FA_TK) {
        int rows = min(FA_TK, kend - j0);
        load_kv_tile(KV, Dh + 1, FA_TK, A.k, A.dt, A.k_ss, A.k_sh, hk, j0, rows, Dh);
        __syncthreads();
        float s[FA_ROWS];
#pragma unroll
        for (int i = 0; i < FA_ROWS; i++) s[i] = 0.0f;
        const float* kj = KV + lane * (Dh + 1);
        const float* qw = Qs + warp * FA_ROWS * Dh;
        for (int d = 0; d < Dh; d++) {
            float kd = kj[d];
#pragma unroll
            for (int i = 0; i < FA_ROWS; i++) s[i] += qw[i * Dh + d] * kd;
        }
        int j = j0 + lane;
#pragma unroll
        for (int i = 0; i < FA_ROWS; i++) {
            int t = t0 + warp * FA_ROWS + i;
            bool visible = lane < rows && (!A.causal || j <= A.query_start + t);
            float sv = visible ? s[i] : -INFINITY;
            float mnew = fmaxf(m[i], warp_max(sv));
            float pe = sv == -INFINITY ? 0.0f : expf(sv - mnew);
            float a = m[i] == -INFINITY ? 0.0f : expf(m[i] - mnew);
            l[i] = l[i] * a + warp_sum(pe);
            m[i] = mnew;
            P[(warp * FA_ROWS + i) * (FA_TK + 1) + lane] = pe;
#pragma unroll
            for (int c = 0; c < DC; c++) o[i][c] *= a;
        }
        __syncthreads();
        load_kv_tile(KV, Dh + 1, FA_TK, A.v, A.dt, A.v_ss, A.v_sh, hk, j0, rows, Dh);
        __syncthreads();
        for (int jj = 0; jj < rows; jj++) {
            float vv[DC];
#pragma unroll
            for (int c = 0; c < DC; c++) {
                int d = lane + 32 * c;
                vv[c] = d < Dh ? KV[jj * (Dh + 1) + d] : 0.0f;
            }
#pragma unroll
            for (int i = 0; i < FA_ROWS; i++) {
                float pij = P[(warp * FA_ROWS + i) * (FA_TK + 1) + jj];
#pragma unroll
                for (int c = 0; c < DC; c++) o[i][c] += pij * vv[c];
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < FA_ROWS; i++) {
        int t = t0 + warp * FA_ROWS + i;
        if (t >= A.T) continue;
        float inv = 1.0f / l[i];
#pragma unroll
        for (int c = 0; c < DC; c++) {
            int d = lane + 32 * c;
            if (d < Dh) A.out[t * A.o_st + h * A.o_sh + d] = o[i][c] * inv;
        }
    }
}

// One (query, head) per block of 8 warps; warp w takes keys w, w + 8, ...; lanes split Dh.
template <int DC>
__device__ void rowwise(const AttnArgs& A) {
    MGM_DYNAMIC_SHARED(float, sm);  // [8][Dh] partial outputs, then [8] maxima and [8] sums
    const int Dh = A.Dh;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    int t = blockIdx.x, h = blockIdx.y, hk = h / (A.Hq / A.Hkv);
    float qv[DC], o[DC];
#pragma unroll
    for (int c = 0; c < DC; c++) {
        int d = lane + 32 * c;
        qv[c] = d < Dh ? A.q[t * A.q_st + h * A.q_sh + d] * A.scale : 0.0f;
        o[c] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    int kend = A.causal ? min(A.S, A.query_start + t + 1) : A.S;
    for (int j = warp; j < kend; j += nwarps) {
        float s = 0.0f;
#pragma unroll
        for (int c = 0; c < DC; c++) {
            int d = lane + 32 * c;
            if (d < Dh) s += qv[c] * kv_at(A.k, (long long) j * A.k_ss + (long long) hk * A.k_sh + d, A.dt);
        }
        s = warp_sum(s);
        float mnew = fmaxf(m, s);
        float a = m == -INFINITY ? 0.0f : expf(m - mnew);
        float pe = expf(s - mnew);
        l = l * a + pe;
        m = mnew;
#pragma unroll
        for (int c = 0; c < DC; c++) {
            int d = lane + 32 * c;
            if (d < Dh) o[c] = o[c] * a + pe * kv_at(A.v, (long long) j * A.v_ss + (long long) hk * A.v_sh + d, A.dt);
        }
    }
    float* po = sm;
    float* pm = sm + nwarps * Dh;
    float* pl = pm + nwarps;
#pragma unroll
    for (int c = 0; c < DC; c++) {
        int d = lane + 32 * c;
        if (d < Dh) po[warp * Dh + d] = o[c];
    }
    if (lane == 0) {
        pm[warp] = m;
        pl[warp] = l;
    }
    __syncthreads();
    float M = -INFINITY;
    for (int w = 0; w < nwarps; w++) M = fmaxf(M, pm[w]);
    float L = 0.0f;
    for (int w = 0; w < nwarps; w++) L += pm[w] == -INFINITY ? 0.0f : pl[w] * expf(pm[w] - M);
    for (int d = threadIdx.x; d < Dh; d += blockDim.x) {
        float acc = 0.0f;
        for (int w = 0; w < nwarps; w++) {
            if (pm[w] != -INFINITY) acc += po[w * Dh + d] * expf(pm[w] - M);
        }
        A.out[t * A.o_st + h * A.o_sh + d] = acc / L;
    }
}

__device__ __forceinline__ AttnArgs attn_args(const float* q, long long q_st, long long q_sh, const void* k, const void* v,
                                              int dt, long long k_ss, long long k_sh, long long v_ss, long long v_sh, float* out,
                                              long long o_st, long long o_sh, float scale, int causal, int query_start, int T,
                                              int S, int Hq, int Hkv, int Dh) {
    AttnArgs A;
    A.q = q;
    A.q_st = q_st;
    A.q_sh = q_sh;
    A.k = k;
    A.v = v;
    A.dt = dt;
    A.k_ss = k_ss;
    A.k_sh = k_sh;
    A.v_ss = v_ss;
    A.v_sh = v_sh;
    A.out = out;
    A.o_st = o_st;
    A.o_sh = o_sh;
    A.scale = scale;
    A.causal = causal;
    A.query_start = query_start;
    A.T = T;
    A.S = S;
    A.Hq = Hq;
    A.Hkv = Hkv;
    A.Dh = Dh;
    return A;
}

}  // namespace

// Grid (ceil(T / 32), Hq), block 128, dynamic shared (32*Dh + 32*(Dh+1) + 32*33) floats; Dh <= 256.
extern "C" __global__ void __launch_bounds__(128) attn_prefill(const float* q, long long q_st, long long q_sh, const void* k,
                                                               const void* v, int dt, long long k_ss, long long k_sh,
                                                               long long v_ss, long long v_sh, float* out, long long o_st,
                                                               long long o_sh, float scale, int causal, int query_start, int T,
                                                               int S, int Hq, int Hkv, int Dh) {
    AttnArgs A = attn_args(q, q_st, q_sh, k, v, dt, k_ss, k_sh, v_ss, v_sh, out, o_st, o_sh, scale, causal, query_start, T, S,
                           Hq, Hkv, Dh);
    int dc = (Dh + 31) / 32;
    if (dc <= 1) flash_prefill<1>(A);
    else if (dc == 2) flash_prefill<2>(A);
    else if (dc == 3) flash_prefill<3>(A);
    else if (dc == 4) flash_prefill<4>(A);
    else if (dc <= 6) flash_prefill<6>(A);
    else flash_prefill<8>(A);
}

// Grid (T, Hq), block 256, dynamic shared (8*Dh + 16) floats; Dh <= 1024.
extern "C" __global__ void __launch_bounds__(256) attn_rowwise(const float* q, long long q_st, long long q_sh, const void* k,
                                                               const void* v, int dt, long long k_ss, long long k_sh,
                                                               long long v_ss, long long v_sh, float* out, long long o_st,
                                                               long long o_sh, float scale, int causal, int query_start, int T,
                                                               int S, int Hq, int Hkv, int Dh) {
    AttnArgs A = attn_args(q, q_st, q_sh, k, v, dt, k_ss, k_sh, v_ss, v_sh, out, o_st, o_sh, scale, causal, query_start, T, S,
                           Hq, Hkv, Dh);
    int dc = (Dh + 31) / 32;
    if (dc <= 4) rowwise<4>(A);
    else if (dc <= 8) rowwise<8>(A);
    else if (dc <= 16) rowwise<16>(A);
    else rowwise<32>(A);
}

// Backend.windowAttention (MGM patch info mining, folded form): token t of a rows x cols grid
// attends over the window x window pixels of its window of a channels-last map:
// out[t] = sum_i softmax_i(q[t] . m_i * scale) m_i. q, out [T, D] contiguous; map pixel (y, x)
// starts at map + y * ms_h + x * ms_w, channels contiguous.
// Grid T, block 256 (8 warps), dynamic shared window * window floats.
extern "C" __global__ void __launch_bounds__(256) window_attention(const float* q, const float* map, long long ms_h,
                                                                   long long ms_w, int cols, int window, int D, float scale,
                                                                   float* out) {
    MGM_DYNAMIC_SHARED(float, p);
    int t = blockIdx.x;
    int y0 = (t / cols) * window, x0 = (t % cols) * window;
    int npix = window * window;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    const float* qt = q + (long long) t * D;
    for (int i = warp; i < npix; i += nwarps) {
        const float* m = map + (long long) (y0 + i / window) * ms_h + (long long) (x0 + i % window) * ms_w;
        float s = 0.0f;
        for (int c = lane; c < D; c += 32) s += qt[c] * m[c];
        s = warp_sum(s);
        if (lane == 0) p[i] = s * scale;
    }
    __syncthreads();
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < npix; i += blockDim.x) mx = fmaxf(mx, p[i]);
    mx = block_max(mx);
    float z = 0.0f;
    for (int i = threadIdx.x; i < npix; i += blockDim.x) z += expf(p[i] - mx);
    float inv = 1.0f / block_sum(z);
    for (int i = threadIdx.x; i < npix; i += blockDim.x) p[i] = expf(p[i] - mx) * inv;
    __syncthreads();
    for (int c = threadIdx.x; c < D; c += blockDim.x) {
        float acc = 0.0f;
        for (int i = 0; i < npix; i++) {
            acc += p[i] * map[(long long) (y0 + i / window) * ms_h + (long long) (x0 + i % window) * ms_w + c];
        }
        out[(long long) t * D + c] = acc;
    }
}

// ------------------------------------------------------------------ tensor-core prefill
//
// Flash attention on tensor cores (WMMA m16n16k16 in bfloat16, fp32 accumulation) for F16 / BF16
// KV caches, head dims 64, 80, 96, 128. Block: 64 queries of one head, 4 warps x 16 rows; key
// tiles of 32. Each warp computes its S = Q K^T rows into shared memory, runs the online softmax
// on them, rescales its O accumulators (their rows found through a fragment loaded from a matrix
// of row indices, since the element layout is unspecified) and adds P V.
// Precision (exact = 1): q * scale and P are split exactly into three bfloat16 terms, BF16 keys
// and values are exact, F16 ones exactly two terms (products below fp32 resolution dropped), so
// products are those of the fp32 kernel; bfloat16 keeps fp32's range. exact = 0 uses the first
// terms only (the usual flash attention precision).
namespace {

namespace wmma = nvcuda::wmma;

constexpr int TC_BQ = 64, TC_TK = 32;

// Rows [j0, j0 + rows) of head hk of K or V into two bfloat16 term tiles (t0, t0 + tile_elems;
// the second only for F16 sources), zero beyond `rows`.
template <int KVDT>
__device__ void load_tile_tc(__nv_bfloat16* t0, int tile_elems, int ld, const unsigned short* base, long long ss, long long sh,
                             int hk, int j0, int rows, int Dh) {
    for (int e = threadIdx.x; e < TC_TK * Dh; e += blockDim.x) {
        int r = e / Dh, d = e - r * Dh;
        unsigned short raw = r < rows ? base[(long long) (j0 + r) * ss + (long long) hk * sh + d] : (unsigned short) 0;
        if (KVDT == DT_BF16) {
            t0[r * ld + d] = __ushort_as_bfloat16(raw);
        } else {
            float v = half_bits(raw);
            __nv_bfloat16 h = bf16_term(v);
            t0[r * ld + d] = h;
            t0[tile_elems + r * ld + d] = bf16_term(bf16_rest(v, h));
        }
    }
}

// ND = Dh / 16 output fragments per warp (compile time, so that they stay in registers).
template <int KVDT, int ND>
__device__ void flash_prefill_tc(const AttnArgs& A, int exact) {
    typedef __nv_bfloat16 bf16;
    typedef wmma::fragment<wmma::accumulator, 16, 16, 16, float> Acc;
    typedef wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> FragA;
    typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> FragBt;
    typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> FragB;
    constexpr int KVTERMS = KVDT == DT_F16 ? 2 : 1;
    MGM_DYNAMIC_SHARED(unsigned char, smem);
    const int Dh = A.Dh;
    const int ldq = Dh + 8, lds = TC_TK + 4, ldp = TC_TK + 8;
    const int terms = exact ? 3 : 1;
    const int kvterms = exact ? KVTERMS : 1;
    // Layout (see CudaBackend.tensorCoreAttentionBytes): Q terms [3][64][ldq], K or V terms
    // [2][32][ldq], P terms [3][64][ldp] (bfloat16); S [64][lds], row statistics m, l, alpha [64],
    // the row-index matrix [16][16] (fp32).
    bf16* Qs = reinterpret_cast<bf16*>(smem);
    bf16* KV = Qs + 3 * TC_BQ * ldq;
    const int kv_tile = TC_TK * ldq;
    bf16* Ps = KV + 2 * kv_tile;
    float* Ss = reinterpret_cast<float*>(Ps + 3 * TC_BQ * ldp);
    float* mrow = Ss + TC_BQ * lds;
    float* lrow = mrow + TC_BQ;
    float* arow = lrow + TC_BQ;
    float* ridx = arow + TC_BQ;

    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int h = blockIdx.y, hk = h / (A.Hq / A.Hkv);
    int t0 = blockIdx.x * TC_BQ;
    const unsigned short* K = static_cast<const unsigned short*>(A.k);
    const unsigned short* V = static_cast<const unsigned short*>(A.v);

    for (int e = threadIdx.x; e < TC_BQ * Dh; e += blockDim.x) {
        int r = e / Dh, d = e - r * Dh;
        int t = t0 + r;
        float q = t < A.T ? A.q[t * A.q_st + h * A.q_sh + d] * A.scale : 0.0f;
        for (int s = 0; s < 3; s++) {  // q = q1 + q2 + q3 (or q1 = q rounded)
            bf16 part = exact ? bf16_term(q) : bf16_nearest(q);
            Qs[(s * TC_BQ + r) * ldq + d] = part;
            q = bf16_rest(q, part);
        }
    }
    for (int e = threadIdx.x; e < 256; e += blockDim.x) ridx[e] = (float) (e / 16);
    for (int r = threadIdx.x; r < TC_BQ; r += blockDim.x) {
        mrow[r] = -INFINITY;
        lrow[r] = 0.0f;
    }
    __syncthreads();
    Acc rows;  // element e of an accumulator lies in row (int) rows.x[e] of its 16 x 16 tile
    wmma::load_matrix_sync(rows, ridx, 16, wmma::mem_row_major);
    Acc o[ND];
#pragma unroll
    for (int f = 0; f < ND; f++) wmma::fill_fragment(o[f], 0.0f);

    int last_t = min(t0 + TC_BQ, A.T) - 1;
    int kend = A.causal ? min(A.S, A.query_start + last_t + 1) : A.S;
    int r0 = warp * 16;
    for (int j0 = 0; j0 < kend; j0 += TC_TK) {
        int nrows = min(TC_TK, kend - j0);
        load_tile_tc<KVDT>(KV, kv_tile, ldq, K, A.k_ss, A.k_sh, hk, j0, nrows, Dh);
        __syncthreads();
        // S[r0 .. r0 + 16, 0 .. 32) = Q K^T: sum of q_a k_b over term pairs with a + b < 3
#pragma unroll
        for (int j = 0; j < TC_TK / 16; j++) {
            Acc s;
            wmma::fill_fragment(s, 0.0f);
#pragma unroll
            for (int ks = 0; ks < ND * 16; ks += 16) {
#pragma unroll
                for (int b = 0; b < KVTERMS; b++) {
                    if (b >= kvterms) break;
                    FragBt kb;
                    wmma::load_matrix_sync(kb, KV + b * kv_tile + (j * 16) * ldq + ks, ldq);
#pragma unroll
                    for (int a = 0; a < 3; a++) {
                        if (a < terms && a + b < 3) {
                            FragA qa;
                            wmma::load_matrix_sync(qa, Qs + (a * TC_BQ + r0) * ldq + ks, ldq);
                            wmma::mma_sync(s, qa, kb, s);
                        }
                    }
                }
            }
            wmma::store_matrix_sync(Ss + r0 * lds + j * 16, s, lds, wmma::mem_row_major);
        }
        __syncwarp();
        // Online softmax of this warp's 16 rows: two lanes per row, 16 keys each.
        {
            int r = r0 + (lane >> 1), half = lane & 1;
            int t = t0 + r;
            float* srow = Ss + r * lds + half * 16;
            float mx = -INFINITY;
            for (int c = 0; c < 16; c++) {
                int j = j0 + half * 16 + c;
                bool visible = j < kend && (!A.causal || j <= A.query_start + t);
                if (!visible) srow[c] = -INFINITY;
                mx = fmaxf(mx, srow[c]);
            }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            float mold = mrow[r];
            float mnew = fmaxf(mold, mx);
            float sum = 0.0f;
            for (int c = 0; c < 16; c++) {
                float p = srow[c] == -INFINITY ? 0.0f : expf(srow[c] - mnew);
                sum += p;
                for (int k = 0; k < 3; k++) {  // p = p1 + p2 + p3 (or p1 = p rounded)
                    bf16 part = exact ? bf16_term(p) : bf16_nearest(p);
                    Ps[(k * TC_BQ + r) * ldp + half * 16 + c] = part;
                    p = bf16_rest(p, part);
                }
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            if (half == 0) {
                float a = mold == -INFINITY ? 0.0f : expf(mold - mnew);
                arow[r] = a;
                lrow[r] = lrow[r] * a + sum;
                mrow[r] = mnew;
            }
        }
        __syncwarp();
#pragma unroll
        for (int f = 0; f < ND; f++)
#pragma unroll
            for (int e = 0; e < Acc::num_elements; e++) o[f].x[e] *= arow[r0 + (int) rows.x[e]];
        __syncthreads();  // every warp is done with K
        load_tile_tc<KVDT>(KV, kv_tile, ldq, V, A.v_ss, A.v_sh, hk, j0, nrows, Dh);
        __syncthreads();
        // O += P V: sum of p_a v_b over term pairs with a + b < 3
#pragma unroll
        for (int ks = 0; ks < TC_TK; ks += 16) {
            FragA pa[3];
#pragma unroll
            for (int k = 0; k < 3; k++)
                if (k < terms) wmma::load_matrix_sync(pa[k], Ps + (k * TC_BQ + r0) * ldp + ks, ldp);
#pragma unroll
            for (int f = 0; f < ND; f++) {
#pragma unroll
                for (int b = 0; b < KVTERMS; b++) {
                    if (b >= kvterms) break;
                    FragB vb;
                    wmma::load_matrix_sync(vb, KV + b * kv_tile + ks * ldq + f * 16, ldq);
#pragma unroll
                    for (int k = 0; k < 3; k++)
                        if (k < terms && k + b < 3) wmma::mma_sync(o[f], pa[k], vb, o[f]);
                }
            }
        }
        __syncthreads();
    }
    // O / l, staged through shared memory (the Q area is free now) to coalesced global stores.
    float* Os = reinterpret_cast<float*>(smem);
    const int ldo = Dh + 4;
#pragma unroll
    for (int f = 0; f < ND; f++) {
#pragma unroll
        for (int e = 0; e < Acc::num_elements; e++) o[f].x[e] /= lrow[r0 + (int) rows.x[e]];
        wmma::store_matrix_sync(Os + r0 * ldo + f * 16, o[f], ldo, wmma::mem_row_major);
    }
    __syncthreads();
    for (int e = threadIdx.x; e < TC_BQ * Dh; e += blockDim.x) {
        int r = e / Dh, d = e - r * Dh;
        int t = t0 + r;
        if (t < A.T) A.out[t * A.o_st + h * A.o_sh + d] = Os[r * ldo + d];
    }
}

template <int KVDT>
__device__ void flash_prefill_tc_dh(const AttnArgs& A, int exact) {
    if (A.Dh == 64) flash_prefill_tc<KVDT, 4>(A, exact);
    else if (A.Dh == 80) flash_prefill_tc<KVDT, 5>(A, exact);
    else if (A.Dh == 96) flash_prefill_tc<KVDT, 6>(A, exact);
    else flash_prefill_tc<KVDT, 8>(A, exact);
}

}  // namespace

// Grid (ceil(T / 64), Hq), block 128, dynamic shared CudaBackend.tensorCoreAttentionBytes(Dh);
// k / v F16 (dt = 1) or BF16 (dt = 2); Dh one of 64, 80, 96, 128.
extern "C" __global__ void __launch_bounds__(128) attn_prefill_tc(const float* q, long long q_st, long long q_sh, const void* k,
                                                                  const void* v, int dt, long long k_ss, long long k_sh,
                                                                  long long v_ss, long long v_sh, float* out, long long o_st,
                                                                  long long o_sh, float scale, int causal, int query_start,
                                                                  int T, int S, int Hq, int Hkv, int Dh, int exact) {
    AttnArgs A = attn_args(q, q_st, q_sh, k, v, dt, k_ss, k_sh, v_ss, v_sh, out, o_st, o_sh, scale, causal, query_start, T, S,
                           Hq, Hkv, Dh);
    if (dt == DT_BF16) flash_prefill_tc_dh<DT_BF16>(A, exact);
    else flash_prefill_tc_dh<DT_F16>(A, exact);
}
