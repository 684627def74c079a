// Selection over rows: argmax, top-k (MoE routing, top-k sampling) and top-p sampling on the
// device. One block per row. Order: larger value first, lower index first on ties, NaN last.
#include "common.cuh"

using namespace mgm;

namespace {

// Keeps in (v, i) whichever of (v, i) and (w, j) ranks first; index -1 means "nothing yet".
__device__ __forceinline__ void keep_best(float& v, int& i, float w, int j) {
    if (j < 0) return;
    if (i < 0 || ranks_before(w, j, v, i)) {
        v = w;
        i = j;
    }
}

// Block-wide best (value, index), returned to every thread. blockDim.x multiple of 32.
__device__ void block_best(float& v, int& i) {
    __shared__ float sv[32];
    __shared__ int si[32];
    for (int o = 16; o > 0; o >>= 1) {
        float w = __shfl_xor_sync(0xffffffffu, v, o);
        int j = __shfl_xor_sync(0xffffffffu, i, o);
        keep_best(v, i, w, j);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        sv[warp] = v;
        si[warp] = i;
    }
    __syncthreads();
    int nwarps = blockDim.x >> 5;
    v = lane < nwarps ? sv[lane] : 0.0f;
    i = lane < nwarps ? si[lane] : -1;
    for (int o = 16; o > 0; o >>= 1) {
        float w = __shfl_xor_sync(0xffffffffu, v, o);
        int j = __shfl_xor_sync(0xffffffffu, i, o);
        keep_best(v, i, w, j);
    }
    __syncthreads();
}

}  // namespace

extern "C" __global__ void argmax_rows(const float* x, long long xs, int N, int* out, long long out_stride) {
    const float* row = x + blockIdx.x * xs;
    float v = 0.0f;
    int i = -1;
    for (int j = threadIdx.x; j < N; j += blockDim.x) keep_best(v, i, row[j], j);
    block_best(v, i);
    // A sequential scan with `x > best` from index 0 never leaves a NaN in the first slot.
    if (threadIdx.x == 0) out[blockIdx.x * out_stride] = row[0] != row[0] ? 0 : i;
}

// The k best of each row in order: round r picks the best element ranking after round r-1's pick.
extern "C" __global__ void topk_rows(const float* x, long long xs, int N, int k, float* values, long long vs, int* indices,
                                     long long is) {
    const float* row = x + blockIdx.x * xs;
    float pv = 0.0f;
    int pi = -1;
    for (int r = 0; r < k; r++) {
        float v = 0.0f;
        int i = -1;
        for (int j = threadIdx.x; j < N; j += blockDim.x) {
            float w = row[j];
            if (pi < 0 || ranks_before(pv, pi, w, j)) keep_best(v, i, w, j);
        }
        block_best(v, i);
        if (threadIdx.x == 0) {
            values[blockIdx.x * vs + r] = v;
            indices[blockIdx.x * is + r] = i;
        }
        pv = v;
        pi = i;
    }
}

// Top-p (nucleus) sampling of each row of logits, block of 1024 threads per row:
// p = softmax(logits / temperature); the nucleus is {i : p_i >= tau} for the largest tau with
// sum_{p_j >= tau} p_j >= top_p (the shortest prefix of the sorted distribution, ties at its end
// included); the token drawn is the first, in index order over the nucleus, whose cumulative
// probability exceeds u * (nucleus mass), u = uniforms[row] in [0, 1).
extern "C" __global__ void __launch_bounds__(1024) sample_top_p(const float* logits, long long xs, int N, float temperature,
                                                                 float top_p, const float* uniforms, int* out) {
    __shared__ float scan[1024];
    __shared__ int pick;
    const float* row = logits + blockIdx.x * xs;
    float inv_t = 1.0f / temperature;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < N; j += blockDim.x) m = fmaxf(m, row[j] * inv_t);
    m = block_max(m);
    float z = 0.0f;
    for (int j = threadIdx.x; j < N; j += blockDim.x) z += expf(row[j] * inv_t - m);
    float inv_z = 1.0f / block_sum(z);

    // Binary search over the bit patterns of non-negative floats (ordered like the floats).
    unsigned lo = 0, hi = __float_as_uint(inv_z);  // the largest probability is e^0 / Z
    while (lo < hi) {
        unsigned mid = lo + (hi - lo + 1) / 2;
        float tau = __uint_as_float(mid);
        float mass = 0.0f;
        for (int j = threadIdx.x; j < N; j += blockDim.x) {
            float p = expf(row[j] * inv_t - m) * inv_z;
            if (p >= tau) mass += p;
        }
        if (block_sum(mass) >= top_p) lo = mid;
        else hi = mid - 1;
    }
    float tau = __uint_as_float(lo);

    // Each thread owns a contiguous range; an inclusive scan of the ranges' masses finds the range
    // where the cumulative mass crosses u * total, which is then scanned element by element.
    int per = (N + blockDim.x - 1) / blockDim.x;
    int begin = threadIdx.x * per, end = min(N, begin + per);
    float own = 0.0f;
    for (int j = begin; j < end; j++) {
        float p = expf(row[j] * inv_t - m) * inv_z;
        if (p >= tau) own += p;
    }
    scan[threadIdx.x] = own;
    if (threadIdx.x == 0) pick = -1;
    __syncthreads();
    for (int off = 1; off < (int) blockDim.x; off <<= 1) {
        float add = threadIdx.x >= (unsigned) off ? scan[threadIdx.x - off] : 0.0f;
        __syncthreads();
        scan[threadIdx.x] += add;
        __syncthreads();
    }
    float total = scan[blockDim.x - 1];
    float target = uniforms[blockIdx.x] * total;
    float before = threadIdx.x > 0 ? scan[threadIdx.x - 1] : 0.0f;
    if (own > 0.0f && before <= target && target < scan[threadIdx.x]) {
        float c = before;
        int chosen = -1;
        for (int j = begin; j < end; j++) {
            float p = expf(row[j] * inv_t - m) * inv_z;
            if (p < tau) continue;
            chosen = j;  // the last nucleus element of the range if rounding never crosses
            c += p;
            if (c > target) break;
        }
        atomicMax(&pick, chosen);  // exactly one range contains the target
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        if (pick < 0) {  // target == total after rounding: the last nucleus element
            for (int j = N - 1; j >= 0; j--) {
                if (expf(row[j] * inv_t - m) * inv_z >= tau) {
                    pick = j;
                    break;
                }
            }
        }
        out[blockIdx.x] = pick;
    }
}
