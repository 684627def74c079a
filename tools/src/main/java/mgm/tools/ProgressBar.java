package mgm.tools;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress of a long step on stderr. On a terminal one line is redrawn in place
 * ({@code label [#####-----] 12/32 3.1s ETA 8s}); otherwise (a pipe, a log file) only a few plain
 * lines are printed: when a stage starts, at each quarter of a long stage, and when it ends.
 */
final class ProgressBar {
    private static final int WIDTH = 30;
    /** Minimum time between two redraws on a terminal. */
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintWriter err;
    private final boolean terminal;
    private String stage;
    private long stageStart;
    private long lastDraw;
    private int lastQuarter;
    private boolean lineOpen;

    ProgressBar(PrintWriter err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    /** Whether stdin and stdout are a terminal (the Java console's view). */
    static boolean onTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** Reports {@code done} of {@code total} units of {@code label}; a new label starts a new stage. */
    void update(String label, long done, long total) {
        long now = System.nanoTime();
        if (!label.equals(stage)) {
            end();
            stage = label;
            stageStart = now;
            lastQuarter = 0;
            lastDraw = 0;
            if (!terminal) {
                err.println("mgm-run: " + label + " ...");
                err.flush();
            }
        }
        boolean complete = total > 0 && done >= total;
        if (terminal) {
            if (complete || now - lastDraw >= REDRAW_NANOS) {
                draw(done, total, now);
                lastDraw = now;
            }
        } else if (total >= 8 && !complete) {
            int quarter = (int) (4 * done / total);
            if (quarter > lastQuarter) {
                lastQuarter = quarter;
                err.println("mgm-run: " + label + " " + done + "/" + total + suffix(done, total, now));
                err.flush();
            }
        }
        if (complete) {
            end();
        }
    }

    /** Prints a line of its own (e.g. a warning) without ending the stage; the bar is redrawn on the next update. */
    void message(String line) {
        if (terminal && lineOpen) {
            err.print("\r\033[K");
            lineOpen = false;
            lastDraw = 0;
        }
        err.println(line);
        err.flush();
    }

    /** Closes the current stage's line (prints its total time). */
    void end() {
        if (stage == null) {
            return;
        }
        double seconds = (System.nanoTime() - stageStart) / 1e9;
        if (terminal) {
            if (lineOpen) {
                err.print("\r\033[K");
            }
            err.println("mgm-run: " + stage + " done in " + seconds(seconds));
        } else {
            err.println("mgm-run: " + stage + " done in " + seconds(seconds));
        }
        err.flush();
        stage = null;
        lineOpen = false;
    }

    private void draw(long done, long total, long now) {
        StringBuilder sb = new StringBuilder("\r\033[K").append(stage).append(' ');
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, WIDTH * done / total);
            sb.append('[').append("#".repeat(filled)).append("-".repeat(WIDTH - filled)).append("] ")
                    .append(done).append('/').append(total);
        } else {
            sb.append(done);
        }
        sb.append(suffix(done, total, now));
        err.print(sb);
        err.flush();
        lineOpen = true;
    }

    private String suffix(long done, long total, long now) {
        double elapsed = (now - stageStart) / 1e9;
        String s = "  " + seconds(elapsed);
        if (total > 0 && done > 0 && done < total) {
            s += "  ETA " + seconds(elapsed / done * (total - done));
        }
        return s;
    }

    /** 3.2s, 4m05s, 1h02m. */
    static String seconds(double s) {
        if (s < 60) {
            return String.format(Locale.ROOT, "%.1fs", s);
        }
        long t = Math.round(s);
        if (t < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", t / 3600, t % 3600 / 60);
    }
}
