// Host emulation of the CUDA C++ subset that mgm's kernels use, so that the same .cu sources
// compile with g++ into a shared library that runs on a CPU (tests without a GPU).
//
// Model: each thread block runs on one OS thread; its CUDA threads are fibers (cooperative,
// deterministic) that switch only at __syncthreads, warp collectives (shuffles, votes,
// __syncwarp) and WMMA calls. __shared__ is `static thread_local`: every fiber of a block runs
// on the same OS thread, so the block's threads share it, and blocks on other OS threads get
// their own copy. Warp collectives are warp-synchronous exchanges: the call returns only when
// every lane named in the mask has arrived, which catches divergent or partial-mask bugs
// (deadlock is reported with the block and the waiting threads).
//
// Only included when MGM_EMULATOR is defined (see common.cuh); nvcc never sees this file.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <climits>
#include <type_traits>

// ------------------------------------------------------------------ qualifiers

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static thread_local
#define __constant__ static const

// CUDA's math functions live in the global namespace.
using std::isfinite;
using std::isinf;
using std::isnan;

// ------------------------------------------------------------------ vector types

struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct __attribute__((aligned(8))) float2 { float x, y; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) int2 { int x, y; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
struct __attribute__((aligned(8))) uint2 { unsigned x, y; };
struct __attribute__((aligned(16))) uint4 { unsigned x, y, z, w; };
struct __attribute__((aligned(4))) char4 { signed char x, y, z, w; };
struct __attribute__((aligned(4))) uchar4 { unsigned char x, y, z, w; };
struct __attribute__((aligned(2))) char2 { signed char x, y; };

inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }

// ------------------------------------------------------------------ runtime interface

namespace mgm_emu {

struct ThreadState {
    uint3 thread_idx;
    unsigned linear;   // x + y*bx + z*bx*by
    unsigned lane;     // linear % 32
    unsigned warp;     // linear / 32
};

struct BlockState {
    uint3 block_idx;
    dim3 block_dim;
    dim3 grid_dim;
    unsigned char* dynamic_shared;
};

// General-dynamic TLS on purpose: an initial-exec variable would force the library's whole TLS
// block (every kernel's __shared__ arrays) into the small static TLS area, and dlopen would fail.
extern thread_local ThreadState* current_thread;
extern thread_local BlockState* current_block;

void syncthreads();

/** Called by the last lane to arrive, while every other lane of the collective waits. */
typedef void (*CollectiveFn)(const uint64_t* values, const void* const* ptrs, unsigned mask, void* ctx);

/**
 * Warp-synchronous exchange: each lane of `mask` (which must include the caller) publishes
 * `value` and `ptr`; returns when all have arrived. `values_out` (may be null) receives every
 * lane's value (entries of lanes outside the mask are 0). `on_complete` (may be null) runs once,
 * in the last lane to arrive, before anyone is released. `what` names the call for errors.
 */
void warp_collective(unsigned mask, uint64_t value, const void* ptr, CollectiveFn on_complete,
                     void* ctx, uint64_t* values_out, const char* what);

/** Aborts the launch with a message (reported by mgm_emu_launch); never returns. */
[[noreturn]] void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

template <typename T>
inline uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type wider than 8 bytes");
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
}

template <typename T>
inline T from_bits(uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof(T));
    return v;
}

}  // namespace mgm_emu

#define threadIdx (::mgm_emu::current_thread->thread_idx)
#define blockIdx (::mgm_emu::current_block->block_idx)
#define blockDim (::mgm_emu::current_block->block_dim)
#define gridDim (::mgm_emu::current_block->grid_dim)
static constexpr int warpSize = 32;

inline void __syncthreads() { ::mgm_emu::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
    ::mgm_emu::warp_collective(mask, 0, nullptr, nullptr, nullptr, nullptr, "__syncwarp");
}
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// ------------------------------------------------------------------ warp shuffles and votes

namespace mgm_emu {
template <typename T>
inline T shuffle(unsigned mask, T v, int src_lane, const char* what) {
    uint64_t all[32];
    warp_collective(mask, to_bits(v), nullptr, nullptr, nullptr, all, what);
    if (!((mask >> src_lane) & 1u)) {
        fail("%s: lane %u reads lane %d, which is not in mask 0x%08x", what, current_thread->lane, src_lane, mask);
    }
    return from_bits<T>(all[src_lane]);
}
inline int segment_base(int width) { return (int) (current_thread->lane & ~(unsigned) (width - 1)); }
}  // namespace mgm_emu

template <typename T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = warpSize) {
    int base = ::mgm_emu::segment_base(width);
    return ::mgm_emu::shuffle(mask, v, base + (src & (width - 1)), "__shfl_sync");
}
template <typename T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
    int lane = (int) ::mgm_emu::current_thread->lane;
    int src = lane ^ lane_mask;
    if (src >= ::mgm_emu::segment_base(width) + width) src = lane;
    return ::mgm_emu::shuffle(mask, v, src, "__shfl_xor_sync");
}
template <typename T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
    int lane = (int) ::mgm_emu::current_thread->lane;
    int src = lane + (int) delta;
    if (src >= ::mgm_emu::segment_base(width) + width) src = lane;
    return ::mgm_emu::shuffle(mask, v, src, "__shfl_down_sync");
}
template <typename T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
    int lane = (int) ::mgm_emu::current_thread->lane;
    int src = lane - (int) delta;
    if (src < ::mgm_emu::segment_base(width)) src = lane;
    return ::mgm_emu::shuffle(mask, v, src, "__shfl_up_sync");
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
    uint64_t all[32];
    ::mgm_emu::warp_collective(mask, pred ? 1 : 0, nullptr, nullptr, nullptr, all, "__ballot_sync");
    unsigned bits = 0;
    for (int i = 0; i < 32; i++) bits |= (all[i] ? 1u : 0u) << i;
    return bits & mask;
}
inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
inline int __all_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) == mask; }

// ------------------------------------------------------------------ atomics (real atomics: blocks run on several OS threads)

template <typename T>
inline T mgm_emu_atomic_add(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline int atomicAdd(int* p, int v) { return mgm_emu_atomic_add(p, v); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return mgm_emu_atomic_add(p, v); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return mgm_emu_atomic_add(p, v); }
inline float atomicAdd(float* p, float v) {
    unsigned* u = reinterpret_cast<unsigned*>(p);
    unsigned old = __atomic_load_n(u, __ATOMIC_SEQ_CST);
    for (;;) {
        float f;
        std::memcpy(&f, &old, 4);
        f += v;
        unsigned nw;
        std::memcpy(&nw, &f, 4);
        if (__atomic_compare_exchange_n(u, &old, nw, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            std::memcpy(&f, &old, 4);
            return f;
        }
    }
}
inline int atomicSub(int* p, int v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicExch(unsigned* p, unsigned v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
inline float atomicExch(float* p, float v) {
    unsigned nw;
    std::memcpy(&nw, &v, 4);
    unsigned old = __atomic_exchange_n(reinterpret_cast<unsigned*>(p), nw, __ATOMIC_SEQ_CST);
    float f;
    std::memcpy(&f, &old, 4);
    return f;
}
template <typename T>
inline T mgm_emu_atomic_cas(T* p, T compare, T v) {
    __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return compare;
}
inline int atomicCAS(int* p, int c, int v) { return mgm_emu_atomic_cas(p, c, v); }
inline unsigned atomicCAS(unsigned* p, unsigned c, unsigned v) { return mgm_emu_atomic_cas(p, c, v); }
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long c, unsigned long long v) {
    return mgm_emu_atomic_cas(p, c, v);
}
template <typename T>
inline T mgm_emu_atomic_max(T* p, T v) {
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
template <typename T>
inline T mgm_emu_atomic_min(T* p, T v) {
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
inline int atomicMax(int* p, int v) { return mgm_emu_atomic_max(p, v); }
inline unsigned atomicMax(unsigned* p, unsigned v) { return mgm_emu_atomic_max(p, v); }
inline int atomicMin(int* p, int v) { return mgm_emu_atomic_min(p, v); }
inline unsigned atomicMin(unsigned* p, unsigned v) { return mgm_emu_atomic_min(p, v); }
inline int atomicOr(int* p, int v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicOr(unsigned* p, unsigned v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
inline int atomicAnd(int* p, int v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicAnd(unsigned* p, unsigned v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }

// ------------------------------------------------------------------ integer and float intrinsics

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned) x); }
inline unsigned __brev(unsigned x) {
    unsigned r = 0;
    for (int i = 0; i < 32; i++) r |= ((x >> i) & 1u) << (31 - i);
    return r;
}

inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }

// Fast-math intrinsics are computed exactly here; kernels must tolerate the device's
// approximations (a few ulp), which the consistency tolerances allow for.
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
// The _rn arithmetic intrinsics are never contracted into FMAs on the device; the emulator is
// built with -ffp-contract=off so that plain arithmetic matches them.
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline int __float2int_rn(float x) { return (int) rintf(x); }
inline int __float2int_rz(float x) { return (int) x; }
inline int __float2int_rd(float x) { return (int) floorf(x); }
inline float __int2float_rn(int x) { return (float) x; }
inline float __ll2float_rn(long long x) { return (float) x; }

template <typename T>
inline T __ldg(const T* p) { return *p; }

// ------------------------------------------------------------------ half and bfloat16

struct __half {
    unsigned short __x;
    __half() = default;
    inline __half(float f);
    inline operator float() const;
};
struct __attribute__((aligned(4))) __half2 {
    __half x, y;
};
typedef __half half;
typedef __half2 half2;

struct __nv_bfloat16 {
    unsigned short __x;
    __nv_bfloat16() = default;
    inline __nv_bfloat16(float f);
    inline operator float() const;
};
struct __attribute__((aligned(4))) __nv_bfloat162 {
    __nv_bfloat16 x, y;
};

namespace mgm_emu {
// IEEE binary16 <-> binary32, round to nearest even, subnormals kept, NaN stays NaN.
inline float half_bits_to_float(unsigned short h) {
    unsigned sign = (unsigned) (h & 0x8000u) << 16;
    unsigned exp = (h >> 10) & 0x1Fu;
    unsigned man = h & 0x3FFu;
    unsigned bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400u));
            bits = sign | ((unsigned) (127 - 15 - e) << 23) | ((man & 0x3FFu) << 13);
        }
    } else if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    return __uint_as_float(bits);
}
inline unsigned short float_to_half_bits(float f) {
    unsigned x = __float_as_uint(f);
    unsigned sign = (x >> 16) & 0x8000u;
    unsigned absx = x & 0x7FFFFFFFu;
    if (absx > 0x7F800000u) return (unsigned short) (sign | 0x7E00u | ((absx >> 13) & 0x3FFu));  // NaN
    if (absx >= 0x477FF000u) return (unsigned short) (sign | 0x7C00u);  // rounds to infinity
    if (absx < 0x38800000u) {  // result is subnormal or zero
        if (absx < 0x33000000u) return (unsigned short) sign;  // < half of the smallest subnormal
        unsigned e = absx >> 23;
        unsigned man = (absx & 0x7FFFFFu) | 0x800000u;
        unsigned shift = 126 - e;  // value = man * 2^(e-150); result unit is 2^-24
        unsigned keep = man >> shift;
        unsigned rem = man & ((1u << shift) - 1);
        unsigned halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (keep & 1u))) keep++;
        return (unsigned short) (sign | keep);
    }
    unsigned r = absx - 0x38000000u;  // rebias exponent 127 -> 15
    unsigned keep = r >> 13;
    unsigned rem = r & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (keep & 1u))) keep++;
    return (unsigned short) (sign | keep);
}
inline float bf16_bits_to_float(unsigned short b) { return __uint_as_float((unsigned) b << 16); }
inline unsigned short float_to_bf16_bits(float f) {
    unsigned x = __float_as_uint(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FFFu;  // canonical NaN, as the device does
    unsigned rounding = 0x7FFFu + ((x >> 16) & 1u);
    return (unsigned short) ((x + rounding) >> 16);
}
}  // namespace mgm_emu

inline __half::__half(float f) : __x(::mgm_emu::float_to_half_bits(f)) {}
inline __half::operator float() const { return ::mgm_emu::half_bits_to_float(__x); }
inline __nv_bfloat16::__nv_bfloat16(float f) : __x(::mgm_emu::float_to_bf16_bits(f)) {}
inline __nv_bfloat16::operator float() const { return ::mgm_emu::bf16_bits_to_float(__x); }

inline float __half2float(__half h) { return ::mgm_emu::half_bits_to_float(h.__x); }
inline __half __float2half(float f) { __half h; h.__x = ::mgm_emu::float_to_half_bits(f); return h; }
inline __half __float2half_rn(float f) { return __float2half(f); }
inline float2 __half22float2(__half2 h) { return {__half2float(h.x), __half2float(h.y)}; }
inline __half2 __floats2half2_rn(float a, float b) { return {__float2half(a), __float2half(b)}; }
inline __half2 __float22half2_rn(float2 f) { return {__float2half(f.x), __float2half(f.y)}; }
inline __half2 __halves2half2(__half a, __half b) { return {a, b}; }
inline float __low2float(__half2 h) { return __half2float(h.x); }
inline float __high2float(__half2 h) { return __half2float(h.y); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __ushort_as_half(unsigned short u) { __half h; h.__x = u; return h; }

inline float __bfloat162float(__nv_bfloat16 b) { return ::mgm_emu::bf16_bits_to_float(b.__x); }
inline __nv_bfloat16 __float2bfloat16(float f) { __nv_bfloat16 b; b.__x = ::mgm_emu::float_to_bf16_bits(f); return b; }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __float2bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rz(float f) {  // truncation; NaN stays NaN
    unsigned x = __float_as_uint(f);
    __nv_bfloat16 b;
    b.__x = (x & 0x7FFFFFFFu) > 0x7F800000u ? (unsigned short) 0x7FFFu : (unsigned short) (x >> 16);
    return b;
}
inline float2 __bfloat1622float2(__nv_bfloat162 b) { return {__bfloat162float(b.x), __bfloat162float(b.y)}; }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return {__float2bfloat16(a), __float2bfloat16(b)}; }
inline __nv_bfloat162 __float22bfloat162_rn(float2 f) { return {__float2bfloat16(f.x), __float2bfloat16(f.y)}; }
inline __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) { return {a, b}; }
inline float __low2float(__nv_bfloat162 b) { return __bfloat162float(b.x); }
inline float __high2float(__nv_bfloat162 b) { return __bfloat162float(b.y); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.__x; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { __nv_bfloat16 b; b.__x = u; return b; }

// ------------------------------------------------------------------ WMMA (m16n16k16, half/bf16 in, float accumulate)
//
// Fragment layout here: lane L holds elements [8L, 8L+8) of the tile in row-major order. The
// real layout is unspecified and different; kernels may only rely on what the API promises
// (element-wise operations on x[] are uniform; positions come from load/store). Every call is
// a warp collective: all 32 lanes must call it with the same pointer and ldm, and the pointer
// and ldm must satisfy the device's alignment rules (256-bit pointer, ldm multiple of 16 bytes).

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static_assert(M == 16 && N == 16 && K == 16, "the emulator implements the m16n16k16 shape only");
    enum { num_elements = 8 };
    T x[8];
};

namespace detail {
struct LoadArgs {
    const void* base;
    unsigned ldm;
    int elem_bytes;
    bool col;  // element (r, c) at base[c * ldm + r] instead of base[r * ldm + c]
};
void check_uniform(const void* p, unsigned ldm, int elem_bytes, const char* what);
struct MmaCtx {
    int a_kind;  // 0: half, 1: bf16
};
void mma_all_lanes(const uint64_t* values, const void* const* ptrs, unsigned mask, void* ctx);

template <typename T>
inline float to_f(T v) { return (float) v; }
inline float to_f(float v) { return v; }

template <typename T>
inline void load_tile(T* x, const T* p, unsigned ldm, bool col) {
    unsigned lane = ::mgm_emu::current_thread->lane;
    for (int i = 0; i < 8; i++) {
        int e = (int) lane * 8 + i;
        int r = e / 16, c = e % 16;
        x[i] = col ? p[(size_t) c * ldm + r] : p[(size_t) r * ldm + c];
    }
}
}  // namespace detail

template <typename Use, typename T, typename Layout>
inline void fill_fragment(fragment<Use, 16, 16, 16, T, Layout>& f, T v) {
    for (int i = 0; i < 8; i++) f.x[i] = v;
}
inline void fill_fragment(fragment<accumulator, 16, 16, 16, float>& f, float v) {
    for (int i = 0; i < 8; i++) f.x[i] = v;
}

template <typename Use, typename T, typename Layout>
inline void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout>& f, const T* p, unsigned ldm) {
    static_assert(std::is_same<Use, matrix_a>::value || std::is_same<Use, matrix_b>::value, "a or b fragment");
    detail::check_uniform(p, ldm, (int) sizeof(T), "wmma::load_matrix_sync");
    detail::load_tile(f.x, p, ldm, std::is_same<Layout, col_major>::value);
}
inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float>& f, const float* p, unsigned ldm, layout_t layout) {
    detail::check_uniform(p, ldm, 4, "wmma::load_matrix_sync");
    detail::load_tile(f.x, p, ldm, layout == mem_col_major);
}
inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm, layout_t layout) {
    detail::check_uniform(p, ldm, 4, "wmma::store_matrix_sync");
    unsigned lane = ::mgm_emu::current_thread->lane;
    for (int i = 0; i < 8; i++) {
        int e = (int) lane * 8 + i;
        int r = e / 16, c = e % 16;
        if (layout == mem_col_major) p[(size_t) c * ldm + r] = f.x[i];
        else p[(size_t) r * ldm + c] = f.x[i];
    }
}

template <typename T, typename LA, typename LB>
inline void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, T, LA>& a,
                     const fragment<matrix_b, 16, 16, 16, T, LB>& b, const fragment<accumulator, 16, 16, 16, float>& c) {
    static_assert(std::is_same<T, __half>::value || std::is_same<T, __nv_bfloat16>::value, "half or bf16 inputs");
    // Each lane publishes its four fragments; the last to arrive computes D for the whole warp.
    const void* mine[4] = {&a, &b, &c, &d};
    detail::MmaCtx ctx{std::is_same<T, __half>::value ? 0 : 1};
    ::mgm_emu::warp_collective(0xffffffffu, 0, mine, detail::mma_all_lanes, &ctx, nullptr, "wmma::mma_sync");
}

}  // namespace wmma
}  // namespace nvcuda

// ------------------------------------------------------------------ dynamic shared memory

#define MGM_EMU_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::mgm_emu::current_block->dynamic_shared)
