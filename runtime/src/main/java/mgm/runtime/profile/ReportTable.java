package mgm.runtime.profile;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Formats a profile as text: a header, one table per phase, and the totals of each op kind. */
final class ReportTable {
    /** Rows shown per phase; the rest are summed into one line. */
    static final int MAX_ROWS = 40;
    private static final int MAX_SHAPE = 56;

    private ReportTable() {}

    static String format(String backend, Roofline roof, Map<String, List<Profiler.Row>> rows,
                         Map<String, Profiler.PhaseTime> phases) {
        long all = 0;
        for (List<Profiler.Row> list : rows.values()) {
            for (Profiler.Row r : list) {
                all += r.nanos();
            }
        }
        StringBuilder b = new StringBuilder();
        b.append("mgm profile: backend ").append(backend.isEmpty() ? "(none)" : backend).append('\n');
        b.append("roofline: ").append(roof.describe()).append('\n');
        b.append("time: around each op (device events on a GPU); share: of all op time; GB/s and GFLOP/s from the\n")
                .append("bytes and FLOPs the shapes imply; roof: achieved / min(peak FLOP/s, FLOP/byte x bandwidth), over\n")
                .append("100% when the operands came from caches rather than memory; bound: which ceiling applies\n");
        if (rows.isEmpty()) {
            return b.append("\nno ops were recorded\n").toString();
        }
        int shapeWidth = 5;
        for (List<Profiler.Row> list : rows.values()) {
            for (Profiler.Row r : list) {
                shapeWidth = Math.max(shapeWidth, Math.min(MAX_SHAPE, r.shape().length()));
            }
        }
        for (Map.Entry<String, List<Profiler.Row>> e : rows.entrySet()) {
            List<Profiler.Row> list = e.getValue();
            long phaseOps = 0;
            for (Profiler.Row r : list) {
                phaseOps += r.nanos();
            }
            b.append('\n').append(phaseHeader(e.getKey(), phases.get(e.getKey()), phaseOps, all)).append('\n');
            header(b, shapeWidth);
            int shown = Math.min(list.size(), MAX_ROWS);
            for (int i = 0; i < shown; i++) {
                Profiler.Row r = list.get(i);
                line(b, r.op().opName(), r.shape(), shapeWidth, r.calls(), r.nanos(), r.bytes(), r.flops(), all, roof);
            }
            if (list.size() > shown) {
                long[] rest = sum(list.subList(shown, list.size()));
                line(b, "(" + (list.size() - shown) + " more)", "", shapeWidth, rest[0], rest[1], rest[2], rest[3], all, roof);
            }
            long[] total = sum(list);
            line(b, "(all ops)", "", shapeWidth, total[0], total[1], total[2], total[3], all, roof);
        }
        b.append("\nall phases, by op\n");
        header(b, shapeWidth);
        Map<OpKind, long[]> byKind = new EnumMap<>(OpKind.class);
        for (List<Profiler.Row> list : rows.values()) {
            for (Profiler.Row r : list) {
                long[] t = byKind.computeIfAbsent(r.op(), k -> new long[4]);
                t[0] += r.calls();
                t[1] += r.nanos();
                t[2] += r.bytes();
                t[3] += r.flops();
            }
        }
        List<Map.Entry<OpKind, long[]>> kinds = new ArrayList<>(byKind.entrySet());
        kinds.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
        long[] total = new long[4];
        for (Map.Entry<OpKind, long[]> k : kinds) {
            long[] t = k.getValue();
            line(b, k.getKey().opName(), "", shapeWidth, t[0], t[1], t[2], t[3], all, roof);
            for (int i = 0; i < 4; i++) {
                total[i] += t[i];
            }
        }
        line(b, "(all ops)", "", shapeWidth, total[0], total[1], total[2], total[3], all, roof);
        return b.toString();
    }

    private static String phaseHeader(String phase, Profiler.PhaseTime time, long phaseOps, long all) {
        String share = String.format(Locale.ROOT, "%.1f%% of all op time", 100.0 * phaseOps / Math.max(1, all));
        if (time == null || time.nanos() == 0) {
            return String.format(Locale.ROOT, "== %s: ops %.2f ms, %s", phase, phaseOps / 1e6, share);
        }
        return String.format(Locale.ROOT, "== %s: %d region%s, %.2f ms wall; ops %.2f ms (%.1f%% of its wall), %s", phase,
                time.regions(), time.regions() == 1 ? "" : "s", time.nanos() / 1e6, phaseOps / 1e6,
                100.0 * phaseOps / time.nanos(), share);
    }

    private static void header(StringBuilder b, int shapeWidth) {
        b.append(String.format(Locale.ROOT, "%-16s %-" + shapeWidth + "s %8s %10s %10s %6s %8s %8s %6s %5s%n", "op", "shape",
                "calls", "total ms", "mean us", "share", "GB/s", "GFLOP/s", "roof", "bound"));
    }

    private static void line(StringBuilder b, String op, String shape, int shapeWidth, long calls, long nanos, long bytes,
                             long flops, long all, Roofline roof) {
        if (shape.length() > shapeWidth) {
            shape = shape.substring(0, shapeWidth - 3) + "...";
        }
        double seconds = nanos * 1e-9;
        String gbs = nanos == 0 ? "-" : String.format(Locale.ROOT, "%.2f", bytes / seconds / 1e9);
        String gflops = nanos == 0 || flops == 0 ? "-" : String.format(Locale.ROOT, "%.2f", flops / seconds / 1e9);
        String pct = nanos == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * roof.fractionOfRoof(bytes, flops, nanos));
        String bound = roof.memoryBound(bytes, flops) ? "mem" : "flop";
        b.append(String.format(Locale.ROOT, "%-16s %-" + shapeWidth + "s %8d %10.2f %10.1f %5.1f%% %8s %8s %6s %5s%n", op, shape,
                calls, nanos / 1e6, calls == 0 ? 0.0 : nanos / 1e3 / calls, 100.0 * nanos / Math.max(1, all), gbs, gflops,
                pct, bound));
    }

    private static long[] sum(List<Profiler.Row> rows) {
        long[] t = new long[4];
        for (Profiler.Row r : rows) {
            t[0] += r.calls();
            t[1] += r.nanos();
            t[2] += r.bytes();
            t[3] += r.flops();
        }
        return t;
    }
}
