package mgm.tools;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import mgm.model.MgmModel;
import mgm.tools.serve.ServeCommand;
import mgm.tools.tiny.MakeTinyCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code mgm-run} entry point: the top-level command is MGM's chat CLI ({@link Chat}); the tools are subcommands, each its own class.
 *
 * <p>Exit codes: 0 success, 1 internal error, 2 usage error, 3 model or file error, 4 the memory
 * estimate was refused, 130 interrupted (Ctrl-C). User errors print one line, never a stack trace
 * ({@code --debug} adds it for internal errors).
 */
@Command(name = "mgm-run", mixinStandardHelpOptions = true, version = "mgm-run 0.1.0", usageHelpWidth = 100,
        description = {"Runs Mini-Gemini (MGM) vision-language models: chat about images, as MGM's mgm/serve/cli.py does.",
                "Without a subcommand: an interactive chat (or one answer with --prompt) with the model in --model-path."},
        subcommands = {DemoCommand.class, EvalCommand.class, InspectCommand.class, LogitsCommand.class, BenchCommand.class,
                TokenizeCommand.class, MakeTinyCommand.class, ServeCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {"  mgm-run demo",
                "  mgm-run --model-path work_dirs/MGM/MGM-7B-HD --image-file cat.jpg",
                "  mgm-run --model-path MGM-2B --image-file a.jpg,b.jpg --prompt 'What differs?'",
                "  mgm-run --model-path MGM-8B --conv-mode llama_3 --load-4bit --image-file chart.png",
                "  echo 'Describe it.' | mgm-run --model-path MGM-7B --image-file cat.jpg",
                "  mgm-run inspect --model-path MGM-13B",
                "  mgm-run serve --model-path MGM-7B-HD --port 8000",
                "  mgm-run <command> --help"})
public final class MgmRun implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_INTERNAL = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_FILE = 3;
    public static final int EXIT_MEMORY = 4;
    public static final int EXIT_INTERRUPTED = 130;

    /** Set by --debug or the environment variable MGM_DEBUG: internal errors then show their stack trace. */
    static volatile boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions model;

    @CommandLine.Mixin
    SamplingOptions sampling;

    @CommandLine.Mixin
    ChatOptions chat;

    @Override
    public Integer call() {
        return new Chat(spec.commandLine(), model, sampling, chat).run();
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int execute(String... args) {
        debug = System.getenv("MGM_DEBUG") != null && !System.getenv("MGM_DEBUG").isEmpty();
        CommandLine cl = new CommandLine(new MgmRun());
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("mgm-run: " + ex.getMessage());
            String name = c.getCommandName().equals("mgm-run") ? "" : c.getCommandName() + " ";
            c.getErr().println("Try 'mgm-run " + name + "--help' for usage.");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> report(ex, c.getErr()));
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("mgm-run: out of memory (" + e.getMessage() + "); try --load-4bit or --load-8bit, a smaller "
                    + "--context, or a larger Java heap (-Xmx)");
            return EXIT_MEMORY;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** Prints one line for {@code e} and returns its exit code. */
    static int report(Throwable e, PrintWriter err) {
        int code = exitCode(e);
        if (code == EXIT_INTERNAL) {
            err.println("mgm-run: internal error: " + e + (debug ? "" : " (set MGM_DEBUG=1 for the stack trace)"));
            if (debug) {
                e.printStackTrace(err);
            }
        } else {
            err.println("mgm-run: " + e.getMessage());
        }
        err.flush();
        return code;
    }

    static int exitCode(Throwable e) {
        if (e instanceof CommandFailure f) {
            return f.exitCode;
        }
        if (e instanceof MgmModel.NotEnoughMemoryException) {
            return EXIT_MEMORY;
        }
        return EXIT_INTERNAL;
    }

    public static void main(String[] args) {
        if (Relauncher.needed()) {
            System.exit(Relauncher.relaunch(MgmRun.class, args));
        }
        System.exit(execute(args));
    }

    /** A failure with a one-line message and the exit code to return. */
    public static final class CommandFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        public CommandFailure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        public CommandFailure(int exitCode, String message, Throwable cause) {
            super(message, cause);
            this.exitCode = exitCode;
        }

        public static CommandFailure usage(String message) {
            return new CommandFailure(EXIT_USAGE, message);
        }

        public static CommandFailure file(String message) {
            return new CommandFailure(EXIT_FILE, message);
        }
    }
}
