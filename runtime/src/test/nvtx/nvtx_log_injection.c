/*
 * A minimal NVTX injection library, standing in for Nsight Systems to check that the Java NVTX
 * binding's ranges reach a tool: NVTX loads it from NVTX_INJECTION64_PATH at the first NVTX call;
 * it takes over nvtxRangePushA / nvtxRangePop and writes "push NAME" / "pop" lines, with the
 * thread id, to the file named by NVTX_LOG. Built and run by check-nvtx.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <nvtx3/nvToolsExt.h>

static FILE *out;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int push(const char *message) {
    pthread_mutex_lock(&lock);
    fprintf(out, "%ld push %s\n", (long) syscall(SYS_gettid), message);
    pthread_mutex_unlock(&lock);
    return 0;
}

static int pop(void) {
    pthread_mutex_lock(&lock);
    fprintf(out, "%ld pop\n", (long) syscall(SYS_gettid));
    fflush(out);
    pthread_mutex_unlock(&lock);
    return 0;
}

int InitializeInjectionNvtx2(NvtxGetExportTableFunc_t getExportTable) {
    const NvtxExportTableCallbacks *callbacks = (const NvtxExportTableCallbacks *) getExportTable(NVTX_ETID_CALLBACKS);
    NvtxFunctionTable table = 0;
    unsigned int size = 0;
    const char *path = getenv("NVTX_LOG");
    if (callbacks == 0 || path == 0 || !callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE, &table, &size)
            || size <= NVTX_CBID_CORE_RangePop) {
        return 0;
    }
    out = fopen(path, "w");
    if (out == 0) {
        return 0;
    }
    *table[NVTX_CBID_CORE_RangePushA] = (NvtxFunctionPointer) push;
    *table[NVTX_CBID_CORE_RangePop] = (NvtxFunctionPointer) pop;
    return 1;
}
