package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ferry} command. */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0-SNAPSHOT",
        description = "Ferry: a JDBC connection pool and request batcher, and the tools to measure it.",
        subcommands = {DemoCommand.class, LoadCommand.class, AdviseCommand.class})
public final class FerryCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "print stack traces of errors")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line with Ferry's error handling: a bad argument or a failure prints one line naming the
     * problem (a stack trace only with --verbose) and exits non-zero.
     */
    static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new FerryCommand());
        cmd.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("ferry: " + ex.getMessage()
                    + " (see 'ferry " + ex.getCommandLine().getCommandName() + " --help')");
            return 2;
        });
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            boolean verboseRun = parseResult.hasMatchedOption("--verbose")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"));
            String message = ex instanceof java.sql.SQLException
                    ? "database error: " + LoadCommand.describe((java.sql.SQLException) ex)
                    : ex.getMessage() == null ? ex.toString() : ex.getMessage().lines().findFirst().orElse("");
            commandLine.getErr().println("ferry: " + message);
            if (verboseRun) {
                ex.printStackTrace(commandLine.getErr());
            }
            return ex instanceof IllegalArgumentException ? 2 : 1;
        });
        return cmd;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
