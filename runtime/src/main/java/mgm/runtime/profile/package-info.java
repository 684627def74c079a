/**
 * Profiling of a run, op by op: what people who tune kernels want to see without a debugger.
 *
 * <ul>
 *   <li>{@link mgm.runtime.profile.Profiler} is the entry point: {@code wrap} a backend, mark
 *       phases, then {@code report()} (a text table per phase: calls, time, share, bytes, FLOPs,
 *       GB/s, GFLOP/s and % of the roofline per op kind and shape) and {@code writeTrace(path)}
 *       (Chrome trace-event JSON for Perfetto / {@code chrome://tracing}).</li>
 *   <li>{@link mgm.runtime.profile.ProfilingBackend} is the decorator that times each op;
 *       {@link mgm.runtime.profile.OpCost} states how bytes and FLOPs follow from shapes and dtypes.</li>
 *   <li>Model code marks phases and layers with {@link mgm.runtime.Backend#phase} and
 *       {@link mgm.runtime.Backend#layer}; on an unwrapped backend they return a constant and cost
 *       nothing.</li>
 *   <li>{@link mgm.runtime.profile.Roofline} holds the machine's ceilings, measured by
 *       {@link mgm.runtime.profile.MachineProbe} on the CPU or reported by a device through
 *       {@link mgm.runtime.profile.DeviceTimer}, the interface an asynchronous (CUDA) backend
 *       implements so that its ops are timed with events on its stream.</li>
 *   <li>Every op and region is also a JDK Flight Recorder event ({@code mgm.Op}, {@code mgm.Region})
 *       while a recording enables them, and an NVTX range ({@link mgm.runtime.profile.Nvtx}) when
 *       the NVTX library is present, for Nsight Systems.</li>
 * </ul>
 */
package mgm.runtime.profile;
