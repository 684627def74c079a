package mgm.tools;

import mgm.tools.tiny.MakeTinyCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code mgm-run} entry point. Each subcommand is its own class; this one only wires them up.
 * Exit codes: 0 success, 2 usage error, 3 input/output file error.
 */
@Command(name = "mgm-run", mixinStandardHelpOptions = true, version = "mgm-run 0.1.0",
        description = "Runs Mini-Gemini (MGM) models and their tools.",
        subcommands = {TokenizeCommand.class, MakeTinyCommand.class, CommandLine.HelpCommand.class})
public final class MgmRun implements Runnable {
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_FILE = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new MgmRun());
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("mgm-run: " + ex.getMessage());
            ex.getCommandLine().getErr().println("Try 'mgm-run " + (ex.getCommandLine().getCommandName().equals("mgm-run")
                    ? "" : ex.getCommandLine().getCommandName() + " ") + "--help' for usage.");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            c.getErr().println("mgm-run: " + ex.getMessage());
            return ex instanceof CommandFailure f ? f.exitCode : 1;
        });
        return cl.execute(args);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** A failure with a one-line message and the exit code to return. */
    static final class CommandFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        CommandFailure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }
}
