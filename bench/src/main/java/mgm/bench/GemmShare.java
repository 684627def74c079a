package mgm.bench;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mgm.runtime.profile.OpKind;
import mgm.runtime.profile.Profiler;

/**
 * Which profiled ops are GEMM-shaped (conv2d, run as im2col + GEMM, and matmul with more than
 * four rows — fewer rows take the GEMV kernels), and their time and FLOPs.
 */
final class GemmShare {
    /** The rows of a matmul signature: {@code x[M,K] w[...]}. */
    private static final Pattern ROWS = Pattern.compile("^x\\[(\\d+),");

    private GemmShare() {}

    static boolean isGemm(Profiler.Row r) {
        if (r.op() == OpKind.CONV2D) {
            return true;
        }
        if (r.op() != OpKind.MATMUL) {
            return false;
        }
        Matcher m = ROWS.matcher(r.shape());
        return m.find() && Long.parseLong(m.group(1)) > 4;
    }

    static double seconds(List<Profiler.Row> rows) {
        return rows.stream().filter(GemmShare::isGemm).mapToLong(Profiler.Row::nanos).sum() / 1e9;
    }

    static double flops(List<Profiler.Row> rows) {
        return rows.stream().filter(GemmShare::isGemm).mapToLong(Profiler.Row::flops).sum();
    }
}
