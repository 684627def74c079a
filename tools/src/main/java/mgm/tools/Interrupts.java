package mgm.tools;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jline.terminal.Terminal;
import org.jline.utils.Signals;

/**
 * What Ctrl-C means in the chat: while an answer is being generated, the first Ctrl-C stops that
 * answer (the chat goes on); a second one, or one while nothing is being generated, ends the
 * program with exit status 130.
 */
final class Interrupts implements AutoCloseable {
    private final PrintWriter err;
    private final Terminal terminal;
    private final Object previous;
    private final AtomicBoolean answering = new AtomicBoolean();
    private final AtomicBoolean stop = new AtomicBoolean();

    private Interrupts(PrintWriter err, Terminal terminal) {
        this.err = err;
        this.terminal = terminal;
        if (terminal != null) {
            terminal.handle(Terminal.Signal.INT, s -> onInterrupt());
            previous = null;
        } else {
            previous = Signals.register("INT", this::onInterrupt);
        }
    }

    /** Installs the handler on the JLine terminal when there is one, else on the process. */
    static Interrupts install(PrintWriter err, Terminal terminal) {
        return new Interrupts(err, terminal);
    }

    void startAnswer() {
        stop.set(false);
        answering.set(true);
    }

    void endAnswer() {
        answering.set(false);
    }

    /** Whether Ctrl-C asked to stop the current answer. */
    boolean stopRequested() {
        return stop.get();
    }

    private void onInterrupt() {
        if (answering.get() && !stop.getAndSet(true)) {
            return; // the generation loop sees the flag and stops after the current token
        }
        err.println();
        err.println("exit...");
        err.flush();
        Runtime.getRuntime().exit(MgmRun.EXIT_INTERRUPTED);
    }

    @Override
    public void close() {
        if (terminal != null) {
            terminal.handle(Terminal.Signal.INT, Terminal.SignalHandler.SIG_DFL);
        } else {
            Signals.unregister("INT", previous);
        }
    }
}
