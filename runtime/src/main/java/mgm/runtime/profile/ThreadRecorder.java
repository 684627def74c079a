package mgm.runtime.profile;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import jdk.jfr.FlightRecorder;
import mgm.runtime.Backend;

/**
 * What one thread records for a {@link Profiler}: its stack of open phases and layers, the op
 * rows of each phase, its trace slices, and the state of the op in flight (ops do not nest: a
 * backend's own default methods call the wrapped backend, not the decorator). Reused objects only
 * on the per-op path, apart from a new row the first time a signature is seen in a phase.
 *
 * <p>Written by its thread; read by report and trace writing under this object's lock.
 */
final class ThreadRecorder {
    static final String NO_PHASE = "(outside phases)";
    static final byte HOST_TRACK = 0;

    final Profiler profiler;
    final long threadId;
    final String threadName;
    final OpSample sample = new OpSample();
    private final TraceBuffer trace;
    private final boolean jfr;
    private final Nvtx nvtx;

    // ops of each phase, and the map of the innermost open phase
    private final Map<String, HashMap<OpSample, OpStats>> byPhase = new LinkedHashMap<>();
    private HashMap<OpSample, OpStats> current;
    private String currentPhase;
    private final Map<String, long[]> phaseTimes = new LinkedHashMap<>();  // name -> {regions, nanos}
    private final HashMap<String, String[]> layerLabels = new HashMap<>();

    // open regions
    private int depth;
    private byte[] kinds = new byte[16];
    private String[] labels = new String[16];
    private int[] labelIds = new int[16];
    private long[] starts = new long[16];
    private boolean[] counted = new boolean[16];
    private RegionEvent[] events = new RegionEvent[16];
    private long[] deviceStarts = new long[16];
    private DeviceTimeline[] timelines = new DeviceTimeline[16];
    private RegionScope[] scopes = new RegionScope[16];

    // the op in flight
    private OpEvent opEvent;
    private DeviceTimeline opTimeline;
    private long opDeviceStart;
    private long opDeviceEnd;

    ThreadRecorder(Profiler profiler, Thread thread) {
        this.profiler = profiler;
        this.threadId = thread.threadId();
        this.threadName = thread.getName();
        Profiler.Options o = profiler.options();
        this.trace = o.trace() ? new TraceBuffer(o.maxTraceSlices()) : null;
        this.jfr = o.jfr();
        this.nvtx = o.nvtx() ? Nvtx.get().orElse(null) : null;
        setPhase(NO_PHASE);
    }

    // ================================================================== ops

    /** Starts timing an op; returns the host start time. */
    long startOp(OpKind kind, DeviceTimeline timeline) {
        if (nvtx != null) {
            nvtx.push(kind.opName());
        }
        if (jfr && FlightRecorder.isInitialized()) {
            OpEvent e = new OpEvent();
            if (e.isEnabled()) {
                e.begin();
                opEvent = e;
            }
        }
        opTimeline = timeline;
        opDeviceStart = timeline == null || !timeline.isOpen() ? DeviceTimer.NOT_RECORDED : timeline.timer().record();
        return System.nanoTime();
    }

    /** Stops the clocks of the op in flight, right after the wrapped call returned; returns the host end time. */
    long stopOp() {
        long t = System.nanoTime();
        if (opDeviceStart != DeviceTimer.NOT_RECORDED) {
            opDeviceEnd = opTimeline.timer().record();
        }
        if (opEvent != null) {
            opEvent.end();
        }
        return t;
    }

    /** The wrapped call threw: nothing is recorded, ranges are closed. */
    void abortOp() {
        if (opDeviceStart != DeviceTimer.NOT_RECORDED) {
            opTimeline.timer().release(opDeviceStart);
            opDeviceStart = DeviceTimer.NOT_RECORDED;
        }
        opEvent = null;
        if (nvtx != null) {
            nvtx.pop();
        }
    }

    /** Records the op in flight, whose signature and cost are in {@link #sample}. */
    void finishOp(long t0, long t1, String backendName) {
        OpSample s = sample;
        boolean onDevice = opDeviceStart != DeviceTimer.NOT_RECORDED && opDeviceEnd != DeviceTimer.NOT_RECORDED;
        OpStats row;
        int deviceSlice = -1;
        synchronized (this) {
            row = current.get(s);
            if (row == null) {
                OpSample key = s.freeze();
                String label = key.label();
                row = new OpStats(key, label, profiler.names().id(label));
                current.put(key, row);
            }
            row.addCall(s.bytes, s.flops);
            if (!onDevice) {
                row.addTime(t1 - t0);
            }
            if (trace != null) {
                int name = profiler.opNameId(s.kind);
                trace.add(t0, t1, name, row.labelId, TraceBuffer.OP, HOST_TRACK, s.bytes, s.flops);
                if (onDevice) {
                    deviceSlice = trace.add(-1, -1, name, row.labelId, TraceBuffer.OP, opTimeline.track(), s.bytes, s.flops);
                }
            }
        }
        if (onDevice) {
            opTimeline.add(opDeviceStart, opDeviceEnd, row, this, deviceSlice);
        } else if (opDeviceStart != DeviceTimer.NOT_RECORDED) {
            opTimeline.timer().release(opDeviceStart);
        }
        opDeviceStart = DeviceTimer.NOT_RECORDED;
        OpEvent e = opEvent;
        if (e != null) {
            opEvent = null;
            if (e.shouldCommit()) {
                e.op = s.kind.opName();
                e.shape = row.label;
                e.phase = currentPhase;
                e.bytes = s.bytes;
                e.flops = s.flops;
                e.backend = backendName;
                e.commit();
            }
        }
        if (nvtx != null) {
            nvtx.pop();
        }
    }

    /** A device pair was resolved (called by the timeline, on any thread). */
    synchronized void deviceResolved(OpStats row, long duration, int slice, long at, long until) {
        if (row != null) {
            row.addTime(duration);
        }
        if (slice >= 0) {
            trace.setTimes(slice, at, until);
        }
    }

    // ================================================================== regions

    RegionScope pushPhase(String name, DeviceTimeline timeline) {
        return push(TraceBuffer.PHASE, name, -1, name, timeline);
    }

    RegionScope pushLayer(String name, int index, DeviceTimeline timeline) {
        return push(TraceBuffer.LAYER, name, index, layerLabel(name, index), timeline);
    }

    private String layerLabel(String name, int index) {
        if (index < 0 || index > 4096) {
            return name + " " + index;
        }
        String[] cached = layerLabels.get(name);
        if (cached == null || cached.length <= index) {
            cached = cached == null ? new String[Math.max(64, index + 1)] : Arrays.copyOf(cached, Math.max(2 * cached.length, index + 1));
            layerLabels.put(name, cached);
        }
        String l = cached[index];
        if (l == null) {
            l = name + " " + index;
            cached[index] = l;
        }
        return l;
    }

    private RegionScope push(byte kind, String name, int index, String label, DeviceTimeline timeline) {
        int d = depth;
        if (d == kinds.length) {
            synchronized (this) {
                grow();
            }
        }
        long deviceStart = timeline == null || !timeline.isOpen() ? DeviceTimer.NOT_RECORDED : timeline.timer().record();
        boolean phase = kind == TraceBuffer.PHASE;
        boolean counts = phase && !isOpen(name, d);
        int labelId = profiler.names().id(label);
        if (nvtx != null) {
            nvtx.push(label);
        }
        RegionEvent event = null;
        if (jfr && FlightRecorder.isInitialized()) {
            RegionEvent e = new RegionEvent();
            if (e.isEnabled()) {
                e.kind = phase ? "phase" : "layer";
                e.name = name;
                e.index = index;
                e.begin();
                event = e;
            }
        }
        long start = System.nanoTime();
        synchronized (this) {  // a trace may be written from another thread (the exit hook)
            kinds[d] = kind;
            labels[d] = label;
            labelIds[d] = labelId;
            timelines[d] = timeline;
            deviceStarts[d] = deviceStart;
            counted[d] = counts;
            events[d] = event;
            starts[d] = start;
            depth = d + 1;
            if (phase) {
                setPhase(name);
            }
        }
        RegionScope scope = scopes[d];
        if (scope == null) {
            scope = new RegionScope(this, d);
            scopes[d] = scope;
        }
        return scope;
    }

    private boolean isOpen(String phase, int below) {
        for (int i = 0; i < below; i++) {
            if (kinds[i] == TraceBuffer.PHASE && labels[i].equals(phase)) {
                return true;
            }
        }
        return false;
    }

    /** Closes regions until {@code target} remain open (a scope closes the ones it encloses too). */
    void popTo(int target) {
        while (depth > target) {
            pop();
        }
    }

    int depth() {
        return depth;
    }

    private void pop() {
        long end = System.nanoTime();
        int d = depth - 1;
        DeviceTimeline tl = timelines[d];
        long deviceEnd = tl == null || !tl.isOpen() || deviceStarts[d] == DeviceTimer.NOT_RECORDED
                ? DeviceTimer.NOT_RECORDED : tl.timer().record();
        RegionEvent e = events[d];
        if (e != null) {
            e.commit();
        }
        if (nvtx != null) {
            nvtx.pop();
        }
        int deviceSlice = -1;
        boolean phase = kinds[d] == TraceBuffer.PHASE;
        synchronized (this) {
            depth = d;
            if (trace != null) {
                trace.add(starts[d], end, labelIds[d], -1, kinds[d], HOST_TRACK, 0, 0);
                if (deviceEnd != DeviceTimer.NOT_RECORDED) {
                    deviceSlice = trace.add(-1, -1, labelIds[d], -1, kinds[d], tl.track(), 0, 0);
                }
            }
            if (phase) {
                if (counted[d]) {
                    long[] t = phaseTimes.computeIfAbsent(labels[d], k -> new long[2]);
                    t[0]++;
                    t[1] += end - starts[d];
                }
                setPhase(innermostPhase(d));
            }
            events[d] = null;
            labels[d] = null;
            timelines[d] = null;
        }
        if (deviceEnd != DeviceTimer.NOT_RECORDED) {
            tl.add(deviceStarts[d], deviceEnd, null, this, deviceSlice);
            if (phase) {
                tl.resolveAll();  // the host waits for a phase's result anyway: resolve its events now
            }
        } else if (deviceStarts[d] != DeviceTimer.NOT_RECORDED && tl.isOpen()) {
            tl.timer().release(deviceStarts[d]);
        }
    }

    private String innermostPhase(int below) {
        for (int i = below - 1; i >= 0; i--) {
            if (kinds[i] == TraceBuffer.PHASE) {
                return labels[i];
            }
        }
        return NO_PHASE;
    }

    private void setPhase(String name) {
        currentPhase = name;
        current = byPhase.computeIfAbsent(name, k -> new HashMap<>());
    }

    private void grow() {
        int n = 2 * kinds.length;
        kinds = Arrays.copyOf(kinds, n);
        labels = Arrays.copyOf(labels, n);
        labelIds = Arrays.copyOf(labelIds, n);
        starts = Arrays.copyOf(starts, n);
        counted = Arrays.copyOf(counted, n);
        events = Arrays.copyOf(events, n);
        deviceStarts = Arrays.copyOf(deviceStarts, n);
        timelines = Arrays.copyOf(timelines, n);
        scopes = Arrays.copyOf(scopes, n);
    }

    // ================================================================== reading (under the lock)

    /** Copies of the rows of every phase, in the order phases first appeared. */
    synchronized Map<String, Map<OpSample, OpStats>> snapshotRows() {
        Map<String, Map<OpSample, OpStats>> out = new LinkedHashMap<>();
        for (Map.Entry<String, HashMap<OpSample, OpStats>> e : byPhase.entrySet()) {
            Map<OpSample, OpStats> rows = new LinkedHashMap<>();
            for (OpStats s : e.getValue().values()) {
                rows.put(s.signature, s.copy());
            }
            out.put(e.getKey(), rows);
        }
        return out;
    }

    /** {regions, wall nanos} of each phase closed so far (nested repeats of a name count once). */
    synchronized Map<String, long[]> snapshotPhaseTimes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        phaseTimes.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    /** Runs {@code reader} on the trace under the lock, with the regions still open as of {@code now}. */
    synchronized void readTrace(long now, TraceReader reader) {
        if (trace == null) {
            return;
        }
        reader.read(this, trace);
        for (int d = 0; d < depth; d++) {
            reader.open(this, labelIds[d], kinds[d], starts[d], now);
        }
    }

    interface TraceReader {
        void read(ThreadRecorder recorder, TraceBuffer trace);

        void open(ThreadRecorder recorder, int nameId, byte category, long start, long now);
    }

    /** The scope object returned for the region at one depth of one thread, reused. */
    static final class RegionScope implements Backend.Scope {
        private final ThreadRecorder recorder;
        private final int depth;

        RegionScope(ThreadRecorder recorder, int depth) {
            this.recorder = recorder;
            this.depth = depth;
        }

        @Override
        public void close() {
            if (recorder.depth > depth) {
                recorder.popTo(depth);
            }
        }
    }
}
