package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ferry} command. */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0-SNAPSHOT",
        description = "Ferry: a JDBC connection pool and request batcher, and the tools to measure it.",
        subcommands = {DemoCommand.class})
public final class FerryCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new FerryCommand()).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
