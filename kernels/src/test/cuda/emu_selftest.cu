// Kernels that exercise the CUDA features the emulator provides (shared memory and barriers,
// warp shuffles and votes, atomics, dynamic shared memory, WMMA, multi-dimensional indices),
// plus kernels that must fail (deadlock, bad shuffle mask). The same file compiles with nvcc,
// so gpu-check runs these tests on a real GPU and confirms the emulator's semantics.
#include "common.cuh"

// Reverses each block's slice of `in` through shared memory: needs the barrier to be real.
extern "C" __global__ void selftest_block_reverse(const int* in, int* out) {
    __shared__ int tile[256];
    int base = blockIdx.x * blockDim.x;
    tile[threadIdx.x] = in[base + threadIdx.x];
    __syncthreads();
    out[base + threadIdx.x] = tile[blockDim.x - 1 - threadIdx.x];
}

// Per thread, 8 results: butterfly sum, shfl_down sum (lane 0 valid), shfl_up by 1, broadcast
// of lane 7, ballot of v > 0, any/all, and a width-8 xor exchange.
extern "C" __global__ void selftest_shuffles(const float* in, float* out) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    float v = in[t];
    float* o = out + (long long) t * 8;
    o[0] = mgm::warp_sum(v);
    float d = v;
    for (int off = 16; off > 0; off >>= 1) d += __shfl_down_sync(0xffffffffu, d, off);
    o[1] = d;
    o[2] = __shfl_up_sync(0xffffffffu, v, 1);
    o[3] = __shfl_sync(0xffffffffu, v, 7);
    o[4] = (float) __ballot_sync(0xffffffffu, v > 0.0f);
    o[5] = (float) __any_sync(0xffffffffu, v > 100.0f);
    o[6] = (float) __all_sync(0xffffffffu, v > -100.0f);
    o[7] = __shfl_xor_sync(0xffffffffu, v, 3, 8);
}

// Half-warp collectives run concurrently in the two halves of each warp.
extern "C" __global__ void selftest_half_warps(const float* in, float* out) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned lane = threadIdx.x & 31;
    unsigned mask = lane < 16 ? 0x0000ffffu : 0xffff0000u;
    float v = in[t];
    for (int off = 8; off > 0; off >>= 1) v += __shfl_xor_sync(mask, v, off, 16);
    out[t] = v;
}

extern "C" __global__ void selftest_atomics(const float* values, int n, int* count, float* sum, int* max_index) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    atomicAdd(count, 1);
    atomicAdd(sum, values[t]);
    if (values[t] > 0.0f) atomicMax(max_index, t);
}

// Block sum through dynamic shared memory (size given at launch: blockDim.x floats).
extern "C" __global__ void selftest_dynamic_shared(const float* in, float* out) {
    MGM_DYNAMIC_SHARED(float, buf);
    buf[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if ((int) threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = buf[0];
}

// Writes (threadIdx, blockIdx, blockDim, gridDim) of every thread of a 3-D launch.
extern "C" __global__ void selftest_indices(int* out) {
    int bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    int tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    int t = bx * (blockDim.x * blockDim.y * blockDim.z) + tx;
    int* o = out + t * 6;
    o[0] = threadIdx.x;
    o[1] = threadIdx.y;
    o[2] = threadIdx.z;
    o[3] = blockIdx.x;
    o[4] = blockIdx.y;
    o[5] = blockIdx.z;
}

// c[16x16] = a[16x16] (row-major) * b[16x16] (col-major, i.e. b[n*16+k]) + 1, one warp.
extern "C" __global__ void selftest_wmma_f16(const __half* a, const __half* b, float* c) {
    using namespace nvcuda;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 1.0f);
    wmma::load_matrix_sync(fa, a, 16);
    wmma::load_matrix_sync(fb, b, 16);
    wmma::mma_sync(acc, fa, fb, acc);
    wmma::store_matrix_sync(c, acc, 16, wmma::mem_row_major);
}

extern "C" __global__ void selftest_wmma_bf16(const __nv_bfloat16* a, const __nv_bfloat16* b, float* c) {
    using namespace nvcuda;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    wmma::load_matrix_sync(fa, a, 16);
    wmma::load_matrix_sync(fb, b, 16);
    wmma::mma_sync(acc, fa, fb, acc);
    // Column-major store: c holds the transpose.
    wmma::store_matrix_sync(c, acc, 16, wmma::mem_col_major);
}

// float <-> half/bf16 conversions, element-wise: out = [half(x), bf16(x)] as floats.
extern "C" __global__ void selftest_conversions(const float* in, float* out, unsigned short* bits, int n) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    float x = in[t];
    __half h = __float2half_rn(x);
    __nv_bfloat16 b = __float2bfloat16_rn(x);
    out[2 * t] = __half2float(h);
    out[2 * t + 1] = __bfloat162float(b);
    bits[2 * t] = __half_as_ushort(h);
    bits[2 * t + 1] = __bfloat16_as_ushort(b);
}

// Lane 5 waits at __syncthreads while the rest of its warp waits for it in a shuffle: deadlock.
extern "C" __global__ void selftest_deadlock(float* out) {
    float v = (float) threadIdx.x;
    if (threadIdx.x == 5) {
        __syncthreads();
    } else {
        v = __shfl_xor_sync(0xffffffffu, v, 1);
    }
    out[threadIdx.x] = v;
}

// Reads lane 20 through a shuffle whose mask covers lanes 0..15 only.
extern "C" __global__ void selftest_bad_shuffle(float* out) {
    if (threadIdx.x < 16) {
        out[threadIdx.x] = __shfl_sync(0x0000ffffu, 1.0f, 20);
    }
}

// A deliberate race (no barrier between the write and the read of a neighbour's slot): its result
// depends on the order threads run, which is how the emulator's schedules expose missing barriers.
extern "C" __global__ void selftest_race(int* out) {
    __shared__ int slot[64];
    slot[threadIdx.x] = -1;
    __syncthreads();
    slot[threadIdx.x] = (int) threadIdx.x;
    out[threadIdx.x] = slot[(threadIdx.x + 1) % blockDim.x];
}
