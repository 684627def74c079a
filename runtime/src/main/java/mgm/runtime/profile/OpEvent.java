package mgm.runtime.profile;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * One backend op as a JDK Flight Recorder event ({@code mgm.Op}), so that JDK Mission Control shows
 * ops next to GC pauses and JIT activity. Recorded only while a recording enables it (any recording
 * does by default; {@code jdk.jfr.consumer.RecordingStream#enable("mgm.Op")} in code); otherwise the
 * profiler skips it after one {@link #shouldCommit()} check. No stack traces: they would cost more
 * than the small ops they describe.
 */
@Name("mgm.Op")
@Label("Backend op")
@Category({"mgm", "Backend"})
@Description("One Backend op call: its kind, shape, bytes moved and FLOPs")
@StackTrace(false)
final class OpEvent extends jdk.jfr.Event {
    @Label("Op")
    String op;

    @Label("Shape")
    @Description("Shapes and dtypes, as in the profile table")
    String shape;

    @Label("Phase")
    String phase;

    @Label("Bytes")
    @DataAmount
    long bytes;

    @Label("FLOPs")
    long flops;

    @Label("Backend")
    String backend;
}
