// Turns a kernel into an entry point that takes cuLaunchKernel-style arguments (an array of
// pointers to the argument values), so that the emulator launches kernels the way the driver does.
#pragma once
#include <type_traits>
#include <utility>

namespace mgm_emu {
template <typename... A, std::size_t... I>
inline void invoke_impl(void (*fn)(A...), void** params, std::index_sequence<I...>) {
    fn(*static_cast<typename std::remove_cv<typename std::remove_reference<A>::type>::type*>(params[I])...);
}
template <typename... A>
inline void invoke(void (*fn)(A...), void** params) {
    invoke_impl(fn, params, std::index_sequence_for<A...>{});
}
}  // namespace mgm_emu

// Exported as mgm_emu__<kernel>; the build script appends one line per kernel to each .cu.
#define MGM_EMU_THUNK(kernel) \
    extern "C" __attribute__((visibility("default"))) void mgm_emu__##kernel(void** params) { ::mgm_emu::invoke(kernel, params); }
