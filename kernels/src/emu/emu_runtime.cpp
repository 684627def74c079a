// The emulator's runtime: runs a kernel launch's blocks on a pool of OS threads, each block's
// threads as fibers, with __syncthreads and warp collectives as scheduling points.
// Entry points (extern "C", loaded through FFM by mgm.kernels.EmulatedDriver):
//   mgm_emu_launch, mgm_emu_set_threads, mgm_emu_threads, mgm_emu_set_schedule, mgm_emu_abi.
#include "cuda_emu.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// Fibers switch with a few lines of assembly on x86-64 and through ucontext elsewhere (or with
// -DMGM_EMU_FORCE_UCONTEXT, which tests that path on x86-64).
#if !defined(__x86_64__) || defined(MGM_EMU_FORCE_UCONTEXT)
#include <ucontext.h>
#define MGM_EMU_UCONTEXT 1
#endif

namespace mgm_emu {

thread_local ThreadState* current_thread = nullptr;
thread_local BlockState* current_block = nullptr;

namespace {

// ------------------------------------------------------------------ context switching

#ifndef MGM_EMU_UCONTEXT
// Saves the callee-saved registers on the current stack, stores the stack pointer in *from,
// switches to the stack `to` and restores its registers. A new fiber's stack is prepared so
// that the first switch "returns" into fiber_main.
extern "C" void mgm_emu_switch(void** from, void* to);
asm(R"(
    .text
    .p2align 4
    .globl mgm_emu_switch
    .hidden mgm_emu_switch
    .type mgm_emu_switch,@function
mgm_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size mgm_emu_switch, .-mgm_emu_switch
)");
#endif

enum class State { READY, AT_BARRIER, AT_COLLECTIVE, DONE };

struct Fiber {
    ThreadState ts;
    State state = State::READY;
#ifdef MGM_EMU_UCONTEXT
    ucontext_t uc;
#else
    void* sp = nullptr;
#endif
    unsigned char* stack = nullptr;  // usable area (above the guard page)
    size_t stack_size = 0;
};

// One open warp collective: the lanes of `mask` that have arrived, their values and pointers.
struct Collective {
    bool open = false;        // accepting arrivals
    bool in_use = false;      // not yet read by every lane
    unsigned mask = 0;
    unsigned arrived = 0;
    unsigned readers_left = 0;
    const char* what = nullptr;
    uint64_t values[32];
    const void* ptrs[32];
};

struct Warp {
    std::vector<Collective> pool;
};

struct Block;

// Per OS thread: the fibers (stacks reused from block to block) and the block being run.
struct Worker {
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    std::vector<unsigned char> dynamic_shared;  // over-allocated; the block sees a 128-byte aligned start
    Fiber* running = nullptr;
#ifdef MGM_EMU_UCONTEXT
    ucontext_t scheduler;
#else
    void* scheduler_sp = nullptr;
#endif
    // current block
    void (*thunk)(void**) = nullptr;
    void** params = nullptr;
    unsigned nthreads = 0;
    unsigned live = 0;
    unsigned at_barrier = 0;
    bool failed = false;
    std::string error;
};

thread_local Worker* tls_worker = nullptr;

// Order in which the scheduler resumes ready fibers: 0 forward (thread 0 first), 1 reverse,
// 2 shuffled (a fresh deterministic permutation per pass). A kernel that lacks a barrier or
// __syncwarp can look right in one order and not in another; tests run more than one.
std::atomic<int> schedule_mode{0};

size_t stack_bytes() {
    static size_t bytes = [] {
        const char* env = std::getenv("MGM_EMU_STACK_KB");
        long kb = env ? std::atol(env) : 256;
        if (kb < 16) kb = 16;
        return (size_t) kb * 1024;
    }();
    return bytes;
}

void switch_to_scheduler(Worker& w, Fiber& f) {
#ifdef MGM_EMU_UCONTEXT
    swapcontext(&f.uc, &w.scheduler);
#else
    mgm_emu_switch(&f.sp, w.scheduler_sp);
#endif
}

void release_barrier(Worker& w) {
    for (unsigned i = 0; i < w.nthreads; i++) {
        if (w.fibers[i].state == State::AT_BARRIER) w.fibers[i].state = State::READY;
    }
    w.at_barrier = 0;
}

void fiber_main() {
    Worker& w = *tls_worker;
    Fiber& f = *w.running;
    w.thunk(w.params);
    f.state = State::DONE;
    w.live--;
    if (w.at_barrier > 0 && w.at_barrier == w.live) release_barrier(w);
    switch_to_scheduler(w, f);
    std::abort();  // a finished fiber is never resumed
}

void ensure_fibers(Worker& w, unsigned n) {
    size_t page = (size_t) sysconf(_SC_PAGESIZE);
    while (w.fibers.size() < n) {
        w.fibers.emplace_back();
        Fiber& f = w.fibers.back();
        size_t size = stack_bytes();
        void* mem = mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED) {
            w.fibers.pop_back();
            throw std::bad_alloc();
        }
        mprotect(mem, page, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting
        f.stack = static_cast<unsigned char*>(mem) + page;
        f.stack_size = size;
    }
}

void start_fiber(Worker& w, Fiber& f) {
#ifdef MGM_EMU_UCONTEXT
    getcontext(&f.uc);
    f.uc.uc_stack.ss_sp = f.stack;
    f.uc.uc_stack.ss_size = f.stack_size;
    f.uc.uc_link = nullptr;
    makecontext(&f.uc, fiber_main, 0);
#else
    (void) w;
    uintptr_t top = ((uintptr_t) (f.stack + f.stack_size)) & ~(uintptr_t) 15;
    uint64_t* sp = reinterpret_cast<uint64_t*>(top);
    *--sp = 0;                                        // fiber_main's return address (never used)
    *--sp = (uint64_t) (uintptr_t) &fiber_main;       // popped by `ret` in mgm_emu_switch
    for (int i = 0; i < 6; i++) *--sp = 0;            // rbp rbx r12 r13 r14 r15
    --sp;                                             // mxcsr + x87 control word
    uint32_t mxcsr;
    uint16_t fpucw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    std::memcpy(reinterpret_cast<char*>(sp), &mxcsr, 4);
    std::memcpy(reinterpret_cast<char*>(sp) + 4, &fpucw, 2);
    f.sp = sp;
#endif
}

void resume(Worker& w, Fiber& f) {
    w.running = &f;
    current_thread = &f.ts;
#ifdef MGM_EMU_UCONTEXT
    swapcontext(&w.scheduler, &f.uc);
#else
    mgm_emu_switch(&w.scheduler_sp, f.sp);
#endif
    w.running = nullptr;
    current_thread = nullptr;
}

void yield_current(Worker& w) {
    Fiber& f = *w.running;
    switch_to_scheduler(w, f);
    // resumed by the scheduler: w.running and current_thread point at us again
}

std::string describe_waiters(Worker& w) {
    unsigned barrier = 0, collective = 0, done = 0;
    std::string detail;
    for (unsigned i = 0; i < w.nthreads; i++) {
        State s = w.fibers[i].state;
        if (s == State::AT_BARRIER) barrier++;
        if (s == State::DONE) done++;
        if (s == State::AT_COLLECTIVE) collective++;
    }
    for (size_t wi = 0; wi < w.warps.size(); wi++) {
        for (const Collective& c : w.warps[wi].pool) {
            if (c.open) {
                char buf[160];
                std::snprintf(buf, sizeof buf, "; warp %zu: %s with mask 0x%08x has lanes 0x%08x", wi, c.what, c.mask, c.arrived);
                detail += buf;
            }
        }
    }
    char buf[200];
    std::snprintf(buf, sizeof buf, "%u threads at __syncthreads, %u in warp collectives, %u exited", barrier, collective, done);
    return buf + detail;
}

// Runs one block to completion on the calling OS thread. Returns false on failure (w.error).
bool run_block(Worker& w, const BlockState& bs) {
    unsigned bx = bs.block_dim.x, by = bs.block_dim.y;
    unsigned n = bs.block_dim.x * bs.block_dim.y * bs.block_dim.z;
    ensure_fibers(w, n);
    unsigned nwarps = (n + 31) / 32;
    if (w.warps.size() < nwarps) w.warps.resize(nwarps);
    for (unsigned i = 0; i < nwarps; i++) {
        for (Collective& c : w.warps[i].pool) { c.open = false; c.in_use = false; }
    }
    w.nthreads = n;
    w.live = n;
    w.at_barrier = 0;
    for (unsigned i = 0; i < n; i++) {
        Fiber& f = w.fibers[i];
        f.ts.thread_idx = {i % bx, (i / bx) % by, i / (bx * by)};
        f.ts.linear = i;
        f.ts.lane = i % 32;
        f.ts.warp = i / 32;
        f.state = State::READY;
        start_fiber(w, f);
    }
    std::vector<unsigned> order(n);
    int mode = schedule_mode.load();
    uint64_t seed = 0x9E3779B97F4A7C15ull * (1 + bs.block_idx.x + 65536ull * (bs.block_idx.y + 65536ull * bs.block_idx.z));
    while (w.live > 0) {
        for (unsigned i = 0; i < n; i++) order[i] = mode == 1 ? n - 1 - i : i;
        if (mode == 2) {
            for (unsigned i = n - 1; i > 0; i--) {  // Fisher-Yates with a xorshift generator
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                unsigned j = (unsigned) (seed % (i + 1));
                unsigned t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        bool ran = false;
        for (unsigned k = 0; k < n && !w.failed; k++) {
            unsigned i = order[k];
            if (w.fibers[i].state == State::READY) {
                ran = true;
                resume(w, w.fibers[i]);
            }
        }
        if (w.failed) return false;
        if (!ran && w.live > 0) {
            char buf[120];
            std::snprintf(buf, sizeof buf, "deadlock in block (%u,%u,%u): ", bs.block_idx.x, bs.block_idx.y, bs.block_idx.z);
            w.error = buf + describe_waiters(w);
            w.failed = true;
            return false;
        }
    }
    return true;
}

// ------------------------------------------------------------------ the worker pool

struct Launch {
    void (*thunk)(void**);
    void** params;
    dim3 grid, block;
    unsigned shared_bytes;
    unsigned long long total_blocks;
    std::atomic<unsigned long long> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::string error;
};

class Pool {
public:
    static Pool& get() {
        static Pool* pool = new Pool();  // never destroyed: workers may outlive static destructors
        return *pool;
    }

    void set_threads(int n) {
        std::lock_guard<std::mutex> g(launch_mutex_);
        wanted_ = n < 1 ? 1 : n;
    }
    int threads() {
        std::lock_guard<std::mutex> g(launch_mutex_);
        return wanted_;
    }

    void run(Launch& l) {
        std::lock_guard<std::mutex> serial(launch_mutex_);  // launches are stream-ordered
        unsigned long long want = l.total_blocks < (unsigned long long) wanted_ ? l.total_blocks : wanted_;
        while (workers_.size() < want) {
            workers_.emplace_back([this, id = workers_.size()] { loop(id); });
            workers_.back().detach();
        }
        {
            std::unique_lock<std::mutex> lk(m_);
            participants_ = (size_t) want;
            current_ = &l;
            active_ = (unsigned) want;
            generation_++;
            cv_.notify_all();
            done_cv_.wait(lk, [this] { return active_ == 0; });
            current_ = nullptr;
        }
    }

private:
    Pool() {
        const char* env = std::getenv("MGM_EMU_THREADS");
        unsigned hw = std::thread::hardware_concurrency();
        wanted_ = env ? std::atoi(env) : (int) (hw == 0 ? 1 : (hw > 8 ? 8 : hw));
        if (wanted_ < 1) wanted_ = 1;
    }

    void loop(size_t id) {
        Worker w;
        tls_worker = &w;
        unsigned long long seen = 0;
        for (;;) {
            Launch* l;
            {
                std::unique_lock<std::mutex> lk(m_);
                cv_.wait(lk, [&] { return generation_ != seen && current_ != nullptr && id < active_slots(); });
                seen = generation_;
                l = current_;
            }
            work(w, *l);
            {
                std::lock_guard<std::mutex> lk(m_);
                if (--active_ == 0) done_cv_.notify_all();
            }
        }
    }

    // Workers with an id below this take part in the current launch.
    size_t active_slots() const { return participants_; }

    static void work(Worker& w, Launch& l) {
        w.thunk = l.thunk;
        w.params = l.params;
        w.failed = false;
        if (w.dynamic_shared.size() < l.shared_bytes + 128) w.dynamic_shared.resize(l.shared_bytes + 128);
        unsigned char* dyn = w.dynamic_shared.data();
        dyn += (128 - (reinterpret_cast<uintptr_t>(dyn) & 127)) & 127;
        // Stale data, not zeros, as on a device: uninitialised shared memory must not look valid.
        std::memset(dyn, 0x7F, l.shared_bytes);
        BlockState bs;
        bs.block_dim = l.block;
        bs.grid_dim = l.grid;
        bs.dynamic_shared = dyn;
        current_block = &bs;
        for (;;) {
            if (l.failed.load()) break;
            unsigned long long b = l.next.fetch_add(1);
            if (b >= l.total_blocks) break;
            bs.block_idx = {(unsigned) (b % l.grid.x), (unsigned) ((b / l.grid.x) % l.grid.y),
                            (unsigned) (b / ((unsigned long long) l.grid.x * l.grid.y))};
            bool ok;
            try {
                ok = run_block(w, bs);
            } catch (const std::exception& e) {
                w.error = std::string("emulator failure: ") + e.what();
                ok = false;
            }
            if (!ok) {
                std::lock_guard<std::mutex> g(l.error_mutex);
                if (!l.failed.exchange(true)) l.error = w.error;
                break;
            }
        }
        current_block = nullptr;
    }

    std::mutex launch_mutex_;
    int wanted_ = 1;
    std::vector<std::thread> workers_;
    std::mutex m_;
    std::condition_variable cv_, done_cv_;
    Launch* current_ = nullptr;
    unsigned active_ = 0;
    size_t participants_ = 0;
    unsigned long long generation_ = 0;
};

}  // namespace

// ------------------------------------------------------------------ the API used by cuda_emu.h

void syncthreads() {
    Worker* wp = tls_worker;
    if (wp == nullptr || wp->running == nullptr) fail("__syncthreads called outside a kernel");
    Worker& w = *wp;
    Fiber& f = *w.running;
    w.at_barrier++;
    if (w.at_barrier == w.live) {  // last to arrive: release everyone and carry on
        release_barrier(w);
        return;
    }
    f.state = State::AT_BARRIER;
    yield_current(w);
}

void warp_collective(unsigned mask, uint64_t value, const void* ptr, CollectiveFn on_complete, void* ctx,
                     uint64_t* values_out, const char* what) {
    Worker* wp = tls_worker;
    if (wp == nullptr || wp->running == nullptr) fail("%s called outside a kernel", what);
    Worker& w = *wp;
    Fiber& f = *w.running;
    unsigned lane = f.ts.lane;
    unsigned warp = f.ts.warp;
    if (!((mask >> lane) & 1u)) fail("%s: calling lane %u is not in mask 0x%08x (thread %u)", what, lane, mask, f.ts.linear);
    unsigned lanes_in_warp = w.nthreads - warp * 32 >= 32 ? 32 : w.nthreads - warp * 32;
    unsigned existing = lanes_in_warp == 32 ? 0xffffffffu : ((1u << lanes_in_warp) - 1);
    if (mask & ~existing) {
        fail("%s: mask 0x%08x names lanes that do not exist in warp %u (block of %u threads)", what, mask, warp, w.nthreads);
    }
    Warp& wr = w.warps[warp];
    Collective* c = nullptr;
    for (Collective& x : wr.pool) {
        if (x.open && x.mask == mask) { c = &x; break; }
    }
    if (c != nullptr && c->what != what && std::strcmp(c->what, what) != 0) {
        fail("warp %u: lane %u calls %s while lanes 0x%08x wait in %s (divergent warp collectives)", warp, lane, what,
             c->arrived, c->what);
    }
    if (c == nullptr) {
        for (Collective& x : wr.pool) {
            if (!x.in_use) { c = &x; break; }
        }
        if (c == nullptr) {
            wr.pool.emplace_back();
            c = &wr.pool.back();
        }
        c->open = true;
        c->in_use = true;
        c->mask = mask;
        c->arrived = 0;
        c->what = what;
        c->readers_left = (unsigned) __builtin_popcount(mask);
        std::memset(c->values, 0, sizeof c->values);
    }
    if ((c->arrived >> lane) & 1u) fail("%s: lane %u arrived twice", what, lane);
    c->arrived |= 1u << lane;
    c->values[lane] = value;
    c->ptrs[lane] = ptr;
    // The pool may grow while we wait (vector reallocation), so remember the slot by index.
    size_t index = (size_t) (c - wr.pool.data());
    if (c->arrived == mask) {
        c->open = false;
        if (on_complete != nullptr) on_complete(c->values, c->ptrs, mask, ctx);
        for (unsigned l = 0; l < 32; l++) {
            if ((mask >> l) & 1u) {
                Fiber& other = w.fibers[warp * 32 + l];
                if (other.state == State::AT_COLLECTIVE) other.state = State::READY;
            }
        }
    } else {
        f.state = State::AT_COLLECTIVE;
        yield_current(w);
    }
    Collective& done = w.warps[warp].pool[index];
    if (values_out != nullptr) std::memcpy(values_out, done.values, sizeof done.values);
    if (--done.readers_left == 0) done.in_use = false;
}

void fail(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    Worker* wp = tls_worker;
    if (wp == nullptr || wp->running == nullptr) {
        std::fprintf(stderr, "mgm emulator: %s (outside a kernel)\n", buf);
        std::abort();
    }
    Worker& w = *wp;
    char where[160];
    const BlockState* bs = current_block;
    std::snprintf(where, sizeof where, " [block (%u,%u,%u) thread (%u,%u,%u)]", bs->block_idx.x, bs->block_idx.y,
                  bs->block_idx.z, w.running->ts.thread_idx.x, w.running->ts.thread_idx.y, w.running->ts.thread_idx.z);
    w.error = std::string(buf) + where;
    w.failed = true;
    Fiber& f = *w.running;
    f.state = State::DONE;
    switch_to_scheduler(w, f);
    std::abort();
}

namespace {
void check_uniform_all(const uint64_t* values, const void* const* ptrs, unsigned, void* ctx) {
    const char* what = static_cast<const char*>(ctx);
    for (int l = 1; l < 32; l++) {
        if (ptrs[l] != ptrs[0] || values[l] != values[0]) {
            fail("%s: lanes pass different arguments (lane 0: %p ldm %llu, lane %d: %p ldm %llu)", what, ptrs[0],
                 (unsigned long long) values[0], l, ptrs[l], (unsigned long long) values[l]);
        }
    }
}
}  // namespace

namespace {
struct MmaFrags {
    const void* a;
    const void* b;
    const void* c;
    void* d;
};
template <typename T>
float elem(const void* frag, int i) {
    return (float) static_cast<const T*>(frag)[i];
}
}  // namespace

}  // namespace mgm_emu

namespace nvcuda {
namespace wmma {
namespace detail {

void check_uniform(const void* p, unsigned ldm, int elem_bytes, const char* what) {
    if (((uintptr_t) p) % 32 != 0) ::mgm_emu::fail("%s: pointer %p is not 256-bit aligned", what, p);
    if ((ldm * (unsigned) elem_bytes) % 16 != 0) {
        ::mgm_emu::fail("%s: ldm %u is not a multiple of 16 bytes for %d-byte elements", what, ldm, elem_bytes);
    }
    ::mgm_emu::warp_collective(0xffffffffu, ldm, p, ::mgm_emu::check_uniform_all, const_cast<char*>(what), nullptr, what);
}

// Runs in the last lane to arrive: gathers A and B from every lane and writes every lane's D.
void mma_all_lanes(const uint64_t*, const void* const* ptrs, unsigned, void* ctx) {
    const MmaCtx* m = static_cast<const MmaCtx*>(ctx);
    float A[256], B[256];
    for (int l = 0; l < 32; l++) {
        const void* const* f = static_cast<const void* const*>(ptrs[l]);
        for (int i = 0; i < 8; i++) {
            if (m->a_kind == 0) {
                A[l * 8 + i] = ::mgm_emu::elem<__half>(f[0], i);
                B[l * 8 + i] = ::mgm_emu::elem<__half>(f[1], i);
            } else {
                A[l * 8 + i] = ::mgm_emu::elem<__nv_bfloat16>(f[0], i);
                B[l * 8 + i] = ::mgm_emu::elem<__nv_bfloat16>(f[1], i);
            }
        }
    }
    for (int l = 0; l < 32; l++) {
        const void* const* f = static_cast<const void* const*>(ptrs[l]);
        const float* c = static_cast<const float*>(f[2]);
        float* d = static_cast<float*>(const_cast<void*>(f[3]));
        float out[8];
        for (int i = 0; i < 8; i++) {
            int e = l * 8 + i;
            int r = e / 16, col = e % 16;
            float acc = c[i];
            for (int k = 0; k < 16; k++) acc += A[r * 16 + k] * B[k * 16 + col];
            out[i] = acc;
        }
        for (int i = 0; i < 8; i++) d[i] = out[i];
    }
}

}  // namespace detail
}  // namespace wmma
}  // namespace nvcuda

// ------------------------------------------------------------------ exported entry points

extern "C" __attribute__((visibility("default"))) int mgm_emu_launch(void (*thunk)(void**), unsigned gx, unsigned gy,
                                                                     unsigned gz, unsigned bx, unsigned by, unsigned bz,
                                                                     unsigned shared_bytes, void** params, char* err,
                                                                     int errlen) {
    auto report = [&](const std::string& msg) {
        if (err != nullptr && errlen > 0) {
            std::snprintf(err, (size_t) errlen, "%s", msg.c_str());
        }
        return 1;
    };
    unsigned long long threads = (unsigned long long) bx * by * bz;
    if (gx == 0 || gy == 0 || gz == 0 || threads == 0) return report("empty grid or block");
    if (threads > 1024) return report("block of " + std::to_string(threads) + " threads exceeds the device limit of 1024");
    if (gy > 65535 || gz > 65535) return report("grid y/z above 65535");
    mgm_emu::Launch l;
    l.thunk = thunk;
    l.params = params;
    l.grid = dim3(gx, gy, gz);
    l.block = dim3(bx, by, bz);
    l.shared_bytes = shared_bytes;
    l.total_blocks = (unsigned long long) gx * gy * gz;
    try {
        mgm_emu::Pool::get().run(l);
    } catch (const std::exception& e) {
        return report(std::string("emulator failure: ") + e.what());
    }
    if (l.failed.load()) return report(l.error);
    return 0;
}

extern "C" __attribute__((visibility("default"))) void mgm_emu_set_threads(int n) { mgm_emu::Pool::get().set_threads(n); }

extern "C" __attribute__((visibility("default"))) int mgm_emu_threads() { return mgm_emu::Pool::get().threads(); }

extern "C" __attribute__((visibility("default"))) void mgm_emu_set_schedule(int mode) {
    mgm_emu::schedule_mode.store(mode < 0 || mode > 2 ? 0 : mode);
}

extern "C" __attribute__((visibility("default"))) const char* mgm_emu_abi() { return "mgm-emu 1"; }
