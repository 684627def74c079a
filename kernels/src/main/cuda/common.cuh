// Shared device helpers for mgm's kernels: dtype codes, strided views, quantised blocks,
// conversions and warp/block reductions. Included by every .cu file; compiles with nvcc
// (the real thing) and with g++ against the host emulator (MGM_EMULATOR, kernels/src/emu).
#pragma once

#ifdef MGM_EMULATOR
#include "cuda_emu.h"
#define MGM_DYNAMIC_SHARED(type, name) MGM_EMU_DYNAMIC_SHARED(type, name)
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>
#include <stdint.h>
// Dynamic shared memory, sized at launch (the emulator gives each block its own buffer), 128-byte
// aligned so that WMMA tiles carved from it keep their 256-bit alignment.
#define MGM_DYNAMIC_SHARED(type, name)                                 \
    extern __shared__ __align__(128) unsigned char mgm_dynamic_smem[]; \
    type* name = reinterpret_cast<type*>(mgm_dynamic_smem)
#endif

namespace mgm {

// Element types, numbered as the constants of mgm.runtime.DType (its ordinal()).
enum DTypeCode : int {
    DT_F32 = 0,
    DT_F16 = 1,
    DT_BF16 = 2,
    DT_I8 = 3,
    DT_I32 = 4,
    DT_Q8_0 = 5,
    DT_Q4_0 = 6,
    DT_F64 = 7,
    DT_I64 = 8,
    DT_I16 = 9,
    DT_U8 = 10,
    DT_BOOL = 11,
    DT_F8_E4M3 = 12,
    DT_F8_E5M2 = 13,
};

constexpr int MAX_DIMS = 6;

// A strided view as mgm.runtime.Tensor describes it: sizes and strides in elements, outermost
// first. Passed by value (104 bytes); the Java side packs it (mgm.kernels.KernelArgs.view).
struct View {
    long long shape[MAX_DIMS];
    long long stride[MAX_DIMS];
    int rank;
    int unused;
};

// Element offset (in elements) of the `linear`-th element in row-major order.
// Fully unrolled so that the view stays in registers / parameter space (no local-memory copy).
__device__ __forceinline__ long long view_offset(const View& v, long long linear) {
    long long off = 0;
#pragma unroll
    for (int d = MAX_DIMS - 1; d >= 0; d--) {
        if (d < v.rank) {
            long long s = v.shape[d];
            long long i = linear % s;
            linear /= s;
            off += i * v.stride[d];
        }
    }
    return off;
}

// GGML's block formats: an fp16 scale then 32 quants (Q8_0: int8; Q4_0: nibbles, byte j holds
// elements j (low) and j + 16 (high), value d * (q - 8)).
struct BlockQ8_0 {
    unsigned short d;
    signed char qs[32];
};
struct BlockQ4_0 {
    unsigned short d;
    unsigned char qs[16];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block is 34 bytes");
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block is 18 bytes");

__device__ __forceinline__ float half_bits(unsigned short b) { return __half2float(__ushort_as_half(b)); }
__device__ __forceinline__ float bf16_bits(unsigned short b) { return __uint_as_float(((unsigned) b) << 16); }
__device__ __forceinline__ unsigned short to_half_bits(float f) { return __half_as_ushort(__float2half_rn(f)); }
// Round to nearest even; NaN becomes a quiet NaN with the sign kept (as torch does).
__device__ __forceinline__ unsigned short to_bf16_bits(float f) {
    unsigned x = __float_as_uint(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (unsigned short) ((x >> 16) | 0x0040u);
    return (unsigned short) ((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ float f8e4m3(unsigned char b) {
    int sign = (b & 0x80) ? -1 : 1;
    int exp = (b >> 3) & 0xF;
    int man = b & 0x7;
    if (exp == 0xF && man == 0x7) return __int_as_float(0x7FC00000);
    if (exp == 0) return sign * (man / 8.0f) * 0.015625f;  // 2^-6
    return sign * (1.0f + man / 8.0f) * ldexpf(1.0f, exp - 7);
}

// Element i of a quantised row whose first block is `blocks` (i counts elements from there).
__device__ __forceinline__ float q8_0_at(const BlockQ8_0* blocks, long long i) {
    const BlockQ8_0& b = blocks[i >> 5];
    return half_bits(b.d) * (float) b.qs[i & 31];
}
__device__ __forceinline__ float q4_0_at(const BlockQ4_0* blocks, long long i) {
    const BlockQ4_0& b = blocks[i >> 5];
    int j = (int) (i & 31);
    int q = b.qs[j & 15];
    q = j < 16 ? (q & 0xF) : (q >> 4);
    return half_bits(b.d) * (float) (q - 8);
}

// Element i (in elements, from `base`) of any dtype, as a float (Java's (float) conversions).
__device__ __forceinline__ float load_as_float(const void* base, long long i, int dt) {
    switch (dt) {
        case DT_F32: return static_cast<const float*>(base)[i];
        case DT_F16: return half_bits(static_cast<const unsigned short*>(base)[i]);
        case DT_BF16: return bf16_bits(static_cast<const unsigned short*>(base)[i]);
        case DT_I8: return (float) static_cast<const signed char*>(base)[i];
        case DT_I32: return (float) static_cast<const int*>(base)[i];
        case DT_Q8_0: return q8_0_at(static_cast<const BlockQ8_0*>(base), i);
        case DT_Q4_0: return q4_0_at(static_cast<const BlockQ4_0*>(base), i);
        case DT_F64: return (float) static_cast<const double*>(base)[i];
        case DT_I64: return (float) static_cast<const long long*>(base)[i];
        case DT_I16: return (float) static_cast<const short*>(base)[i];
        case DT_U8:
        case DT_BOOL: return (float) static_cast<const unsigned char*>(base)[i];
        case DT_F8_E4M3: return f8e4m3(static_cast<const unsigned char*>(base)[i]);
        case DT_F8_E5M2: return half_bits((unsigned short) (static_cast<const unsigned char*>(base)[i] << 8));
        default: return 0.0f;
    }
}

__device__ __forceinline__ bool is_integer_dtype(int dt) {
    return dt == DT_I8 || dt == DT_I32 || dt == DT_I64 || dt == DT_I16 || dt == DT_U8 || dt == DT_BOOL;
}

// Element i of an integer dtype as a 64-bit integer.
__device__ __forceinline__ long long load_as_long(const void* base, long long i, int dt) {
    switch (dt) {
        case DT_I8: return static_cast<const signed char*>(base)[i];
        case DT_I32: return static_cast<const int*>(base)[i];
        case DT_I64: return static_cast<const long long*>(base)[i];
        case DT_I16: return static_cast<const short*>(base)[i];
        case DT_U8:
        case DT_BOOL: return static_cast<const unsigned char*>(base)[i];
        default: return 0;
    }
}

// Java's (int) of a float: truncation, NaN -> 0, saturating at the int range.
__device__ __forceinline__ int float_to_int_java(float x) {
    if (x != x) return 0;
    if (x >= 2147483648.0f) return 2147483647;
    if (x <= -2147483648.0f) return (-2147483647 - 1);
    return (int) x;
}

// Java's (long) of a float.
__device__ __forceinline__ long long float_to_long_java(float x) {
    if (x != x) return 0;
    if (x >= 9223372036854775808.0f) return 9223372036854775807LL;
    if (x <= -9223372036854775808.0f) return (-9223372036854775807LL - 1);
    return (long long) x;
}

// Stores a float into a plain float dtype (F32, F16, BF16).
__device__ __forceinline__ void store_float(void* base, long long i, int dt, float v) {
    switch (dt) {
        case DT_F32: static_cast<float*>(base)[i] = v; break;
        case DT_F16: static_cast<unsigned short*>(base)[i] = to_half_bits(v); break;
        case DT_BF16: static_cast<unsigned short*>(base)[i] = to_bf16_bits(v); break;
        default: break;
    }
}

// ------------------------------------------------------------------ exact bfloat16 splits
//
// A float is the exact sum of three bfloat16 terms (8 + 8 + 8 significant bits) taken by
// truncation: each term is at most what is left in magnitude, so partial sums of the terms (an
// MMA adds them one after the other) never overflow, even for floats near FLT_MAX. Infinities and
// NaN are carried whole by the first term. Below 2^-110 the last term reaches bfloat16's subnormal
// range, whose spacing (2^-133) bounds what is lost: an absolute error under 2^-133.

__device__ __forceinline__ __nv_bfloat16 bf16_term(float v) { return __float2bfloat16_rz(v); }

// What is left of v after taking the term h (exact).
__device__ __forceinline__ float bf16_rest(float v, __nv_bfloat16 h) {
    return isfinite(v) ? v - __bfloat162float(h) : 0.0f;
}

// The nearest bfloat16, or the truncated one where rounding would overflow to infinity (the
// single term of the fast, rounded modes).
__device__ __forceinline__ __nv_bfloat16 bf16_nearest(float v) {
    __nv_bfloat16 h = __float2bfloat16_rn(v);
    if (isinf(__bfloat162float(h)) && isfinite(v)) h = __float2bfloat16_rz(v);
    return h;
}

// ------------------------------------------------------------------ reductions

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block, returned to every thread. blockDim.x is a multiple of 32 (1-D blocks).
// Ends with a barrier so that it can be called again right away.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial_sum[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    if (lane == 0) partial_sum[warp] = v;
    __syncthreads();
    int nwarps = blockDim.x >> 5;
    v = lane < nwarps ? partial_sum[lane] : 0.0f;
    v = warp_sum(v);
    __syncthreads();
    return v;
}
__device__ __forceinline__ float block_max(float v) {
    __shared__ float partial_max[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_max(v);
    if (lane == 0) partial_max[warp] = v;
    __syncthreads();
    int nwarps = blockDim.x >> 5;
    v = lane < nwarps ? partial_max[lane] : -INFINITY;
    v = warp_max(v);
    __syncthreads();
    return v;
}

// (value, index) ordering of argmax/top-k: larger value first, lower index first on ties; NaN
// sorts below everything.
__device__ __forceinline__ bool ranks_before(float v, int i, float w, int j) {
    bool vn = v != v, wn = w != w;
    if (vn || wn) return !vn && wn ? true : (vn && wn ? i < j : false);
    return v > w || (v == w && i < j);
}

}  // namespace mgm
