// Backend.copy: element-wise copies between strided views with dtype conversion, and GGML-exact
// quantisation to Q8_0 / Q4_0 (same bits as mgm.runtime.Quant and ggml's *_ref functions).
#include "common.cuh"

using namespace mgm;

// Same dtype, any strided views: copies the raw element bits (elem_bytes per element; blocks of
// quantised tensors are elements of 34 or 18 bytes here, the views counting blocks).
extern "C" __global__ void copy_bits_strided(const unsigned char* src, View sv, unsigned char* dst, View dv,
                                             long long n, int elem_bytes) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long so = view_offset(sv, i) * elem_bytes;
        long long d = view_offset(dv, i) * elem_bytes;
        switch (elem_bytes) {
            case 1: dst[d] = src[so]; break;
            case 2: *reinterpret_cast<unsigned short*>(dst + d) = *reinterpret_cast<const unsigned short*>(src + so); break;
            case 4: *reinterpret_cast<unsigned*>(dst + d) = *reinterpret_cast<const unsigned*>(src + so); break;
            case 8:
                *reinterpret_cast<unsigned long long*>(dst + d) = *reinterpret_cast<const unsigned long long*>(src + so);
                break;
            default:
                for (int b = 0; b < elem_bytes; b++) dst[d + b] = src[so + b];
                break;
        }
    }
}

// Any dtype (quantised included) to F32 / F16 / BF16 / F64 / I32 / I64 / I8, with the reference
// backend's Java conversions: integer to integer through an int (the low 32 bits), everything else
// through a float ((float) of integers rounds to nearest; float to integer truncates toward zero,
// saturates, NaN -> 0; I8 then keeps the low 8 bits).
extern "C" __global__ void convert_strided(const void* src, int src_dtype, View sv, void* dst, int dst_dtype, View dv,
                                           long long n) {
    bool int_src = is_integer_dtype(src_dtype);
    bool int_dst = is_integer_dtype(dst_dtype);
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long so = view_offset(sv, i);
        long long d = view_offset(dv, i);
        if (int_src && int_dst) {
            int v = (int) load_as_long(src, so, src_dtype);
            if (dst_dtype == DT_I32) static_cast<int*>(dst)[d] = v;
            else if (dst_dtype == DT_I64) static_cast<long long*>(dst)[d] = v;
            else static_cast<signed char*>(dst)[d] = (signed char) v;
            continue;
        }
        float v = int_src ? (float) load_as_long(src, so, src_dtype) : load_as_float(src, so, src_dtype);
        switch (dst_dtype) {
            case DT_I32: static_cast<int*>(dst)[d] = float_to_int_java(v); break;
            case DT_I64: static_cast<long long*>(dst)[d] = float_to_long_java(v); break;
            case DT_I8: static_cast<signed char*>(dst)[d] = (signed char) float_to_int_java(v); break;
            case DT_F64: static_cast<double*>(dst)[d] = (double) v; break;
            default: store_float(dst, d, dst_dtype, v); break;
        }
    }
}

// F32 (any float dtype) to Q8_0: one thread per block of 32. Block b's elements are the linear
// elements [32b, 32b + 32) of the views; a block never spans rows (the last dim is a multiple of 32).
extern "C" __global__ void quantize_q8_0(const void* src, int src_dtype, View sv, BlockQ8_0* dst, View dv, long long nblocks) {
    for (long long b = blockIdx.x * (long long) blockDim.x + threadIdx.x; b < nblocks;
         b += (long long) gridDim.x * blockDim.x) {
        float x[32];
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            x[j] = load_as_float(src, view_offset(sv, b * 32 + j), src_dtype);
            amax = fmaxf(amax, fabsf(x[j]));
        }
        float d = __fdiv_rn(amax, 127.0f);
        float id = d != 0.0f ? __fdiv_rn(1.0f, d) : 0.0f;
        BlockQ8_0& out = dst[view_offset(dv, b * 32) / 32];
        out.d = to_half_bits(d);
        for (int j = 0; j < 32; j++) {
            out.qs[j] = (signed char) (int) roundf(__fmul_rn(x[j], id));
        }
    }
}

// F32 to Q4_0, as ggml's quantize_row_q4_0_ref: the scale comes from the signed value of largest
// magnitude (first one on ties), d = max / -8, q = min(15, (int)(x / d + 8.5)).
extern "C" __global__ void quantize_q4_0(const void* src, int src_dtype, View sv, BlockQ4_0* dst, View dv, long long nblocks) {
    for (long long b = blockIdx.x * (long long) blockDim.x + threadIdx.x; b < nblocks;
         b += (long long) gridDim.x * blockDim.x) {
        float x[32];
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++) {
            x[j] = load_as_float(src, view_offset(sv, b * 32 + j), src_dtype);
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        float d = __fdiv_rn(max, -8.0f);
        float id = d != 0.0f ? __fdiv_rn(1.0f, d) : 0.0f;
        BlockQ4_0& out = dst[view_offset(dv, b * 32) / 32];
        out.d = to_half_bits(d);
        for (int j = 0; j < 16; j++) {
            int lo = float_to_int_java(__fadd_rn(__fmul_rn(x[j], id), 8.5f));
            int hi = float_to_int_java(__fadd_rn(__fmul_rn(x[j + 16], id), 8.5f));
            lo = (int) (signed char) lo;  // Java's (byte) narrowing, then min(15, .)
            hi = (int) (signed char) hi;
            lo = lo < 15 ? lo : 15;
            hi = hi < 15 ? hi : 15;
            out.qs[j] = (unsigned char) (lo | (hi << 4));
        }
    }
}

// x [M, K] F32 (rows `xs` apart) as three bfloat16 matrices [M, K] with x1 + x2 + x3 = x exactly
// (cuBLAS' exact path: out = x1 . w + x2 . w + x3 . w).
extern "C" __global__ void split_bf16_rows(const float* x, long long xs, unsigned short* x1, unsigned short* x2,
                                           unsigned short* x3, int M, int K) {
    long long n = (long long) M * K;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long m = i / K, k = i % K;
        float v = x[m * xs + k];
        unsigned short* out[3] = {x1, x2, x3};
        for (int t = 0; t < 3; t++) {
            __nv_bfloat16 h = bf16_term(v);
            out[t][i] = __bfloat16_as_ushort(h);
            v = bf16_rest(v, h);
        }
    }
}
