package mgm.tools;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;

/**
 * Where the chat reads the user's lines: a JLine line reader on a terminal (editing, history), or
 * plain UTF-8 lines from a pipe. {@link #readLine} returns null at the end of input and throws
 * {@link Interrupted} when Ctrl-C is pressed at the prompt.
 */
interface LineInput extends AutoCloseable {

    /** Ctrl-C at the prompt. */
    final class Interrupted extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    /** Prints {@code prompt} and reads one line without its end; null at end of input. */
    String readLine(String prompt);

    /** The terminal, when reading from one (null for a pipe). */
    Terminal terminal();

    @Override
    void close();

    static LineInput open(PrintWriter out) {
        if (ProgressBar.onTerminal()) {
            try {
                return new Console(org.jline.terminal.TerminalBuilder.builder().system(true).build());
            } catch (IOException | RuntimeException e) {
                // no usable terminal after all: read plain lines
            }
        }
        return new Pipe(out);
    }

    /** JLine: line editing and in-memory history. */
    final class Console implements LineInput {
        private final Terminal terminal;
        private final LineReader reader;

        Console(Terminal terminal) {
            this.terminal = terminal;
            this.reader = LineReaderBuilder.builder().terminal(terminal).appName("mgm-run")
                    .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true).build();
        }

        @Override
        public String readLine(String prompt) {
            try {
                return reader.readLine(prompt);
            } catch (EndOfFileException e) {
                return null;
            } catch (UserInterruptException e) {
                throw new Interrupted();
            }
        }

        @Override
        public Terminal terminal() {
            return terminal;
        }

        @Override
        public void close() {
            try {
                terminal.close();
            } catch (IOException ignored) {
                // the process is ending anyway
            }
        }
    }

    /** Plain lines from standard input (a pipe or a file). */
    final class Pipe implements LineInput {
        private final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        private final PrintWriter out;

        Pipe(PrintWriter out) {
            this.out = out;
        }

        @Override
        public String readLine(String prompt) {
            out.print(prompt);
            out.flush();
            try {
                return in.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException("reading standard input: " + e.getMessage(), e);
            }
        }

        @Override
        public Terminal terminal() {
            return null;
        }

        @Override
        public void close() {
            // standard input stays open for the caller
        }
    }
}
