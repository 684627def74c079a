// Embedding gather: out[t, :] = table[ids[t], :] as F32, table rows in any weight dtype.
#include "common.cuh"

using namespace mgm;

// One block per token. An id outside [0, V) zeroes the row and sets bit 0 of *status, which the
// backend checks at its next synchronisation and reports as an error.
extern "C" __global__ void embedding_rows(const void* table, int dtype, long long V, long long row_stride, const int* ids,
                                          long long ids_stride, float* out, long long out_stride, int D, int* status) {
    int id = ids[blockIdx.x * ids_stride];
    float* orow = out + blockIdx.x * out_stride;
    if (id < 0 || id >= V) {
        if (threadIdx.x == 0) atomicOr(status, 1);
        for (int d = threadIdx.x; d < D; d += blockDim.x) orow[d] = 0.0f;
        return;
    }
    long long base = (long long) id * row_stride;
    for (int d = threadIdx.x; d < D; d += blockDim.x) orow[d] = load_as_float(table, base + d, dtype);
}
