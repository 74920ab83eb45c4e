package dev.ferry.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/** Runs the ferry command in-process and captures what it prints. */
record CliRun(int exit, String out, String err) {

    static CliRun of(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            var cmd = FerryCommand.commandLine();
            cmd.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
            int exit = cmd.execute(args);
            return new CliRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }
}
