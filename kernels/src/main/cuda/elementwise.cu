// Pointwise ops on F32: add / mul with broadcast, scale, activations, and activations fused with
// the gate multiply (SwiGLU / GeGLU). Each op has a contiguous variant (vectorised, the common
// case) and a strided one (any views; a broadcast operand has stride 0).
#include "common.cuh"

using namespace mgm;

namespace {

// Codes of mgm.runtime.Activation (ordinal()).
enum ActCode { ACT_SILU = 0, ACT_GELU_ERF = 1, ACT_GELU_TANH = 2, ACT_QUICK_GELU = 3 };
enum BinCode { BIN_ADD = 0, BIN_MUL = 1 };

// Forms without cancellation for negative x: 1 + erf(z) = erfc(-z) and 1 + tanh(u) = 2 / (1 + e^(-2u)).
__device__ __forceinline__ float activate(int act, float x) {
    switch (act) {
        case ACT_SILU: return x / (1.0f + expf(-x));
        case ACT_GELU_ERF: return 0.5f * x * erfcf(x * -0.70710678118654752f);
        case ACT_GELU_TANH: return x / (1.0f + expf(-1.5957691216057308f * (x + 0.044715f * x * x * x)));
        case ACT_QUICK_GELU: return x / (1.0f + expf(-1.702f * x));
        default: return x;
    }
}

__device__ __forceinline__ float binary(int op, float a, float b) { return op == BIN_ADD ? a + b : a * b; }

__device__ __forceinline__ long long first_index() { return blockIdx.x * (long long) blockDim.x + threadIdx.x; }
__device__ __forceinline__ long long grid_stride() { return (long long) gridDim.x * blockDim.x; }

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

// out = a (op) b, all contiguous with n elements; b has `b_period` elements repeated along a
// (b_period == n: same shape; b_period == last dim: a row vector such as a bias).
extern "C" __global__ void binary_contig(int op, const float* a, const float* b, long long b_period, float* out, long long n) {
    bool vec = aligned16(a) && aligned16(b) && aligned16(out) && (n & 3) == 0 && (b_period & 3) == 0;
    if (vec) {
        long long n4 = n >> 2;
        for (long long i = first_index(); i < n4; i += grid_stride()) {
            float4 x = reinterpret_cast<const float4*>(a)[i];
            float4 y = reinterpret_cast<const float4*>(b)[(i << 2) % b_period >> 2];
            float4 r;
            r.x = binary(op, x.x, y.x);
            r.y = binary(op, x.y, y.y);
            r.z = binary(op, x.z, y.z);
            r.w = binary(op, x.w, y.w);
            reinterpret_cast<float4*>(out)[i] = r;
        }
    } else {
        for (long long i = first_index(); i < n; i += grid_stride()) out[i] = binary(op, a[i], b[i % b_period]);
    }
}

extern "C" __global__ void binary_strided(int op, const float* a, View av, const float* b, View bv, float* out, View ov,
                                          long long n) {
    for (long long i = first_index(); i < n; i += grid_stride()) {
        out[view_offset(ov, i)] = binary(op, a[view_offset(av, i)], b[view_offset(bv, i)]);
    }
}

extern "C" __global__ void scale_contig(const float* x, float s, float* out, long long n) {
    for (long long i = first_index(); i < n; i += grid_stride()) out[i] = x[i] * s;
}

extern "C" __global__ void scale_strided(const float* x, View xv, float s, float* out, View ov, long long n) {
    for (long long i = first_index(); i < n; i += grid_stride()) out[view_offset(ov, i)] = x[view_offset(xv, i)] * s;
}

extern "C" __global__ void activation_contig(int act, const float* x, float* out, long long n) {
    for (long long i = first_index(); i < n; i += grid_stride()) out[i] = activate(act, x[i]);
}

extern "C" __global__ void activation_strided(int act, const float* x, View xv, float* out, View ov, long long n) {
    for (long long i = first_index(); i < n; i += grid_stride()) out[view_offset(ov, i)] = activate(act, x[view_offset(xv, i)]);
}

// out = act(gate) * up.
extern "C" __global__ void gated_contig(int act, const float* gate, const float* up, float* out, long long n) {
    for (long long i = first_index(); i < n; i += grid_stride()) out[i] = activate(act, gate[i]) * up[i];
}

extern "C" __global__ void gated_strided(int act, const float* gate, View gv, const float* up, View uv, float* out, View ov,
                                         long long n) {
    for (long long i = first_index(); i < n; i += grid_stride()) {
        out[view_offset(ov, i)] = activate(act, gate[view_offset(gv, i)]) * up[view_offset(uv, i)];
    }
}
