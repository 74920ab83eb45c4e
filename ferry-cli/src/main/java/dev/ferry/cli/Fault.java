package dev.ferry.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A shell command run once during each pool's measured run, at the same offset, so every pool meets the same
 * fault (a database restart, a killed backend, a network cut) at the same point of its load. Real faults on real
 * parts: the command does whatever the user's environment can, for instance
 * {@code pg_ctlcluster 15 main restart -m fast}.
 */
record Fault(String command, Duration at) implements FaultInjector {

    /** Starts a daemon thread that waits {@code at}, runs the command and reports it; join it when the run ends. */
    @Override
    public Thread start(String pool, PrintStream out) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(at.toMillis());
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
                byte[] output = p.getInputStream().readAllBytes();
                boolean done = waitOut(p); // (a command that closes its output early, as pg_ctlcluster does)
                double took = (System.nanoTime() - t0) / 1e9;
                out.printf(Locale.ROOT, "%nfault: ran '%s' %.1f s into %s's run: %s after %.2f s%s%n", command,
                        at.toMillis() / 1000.0, pool, done ? "exit " + p.exitValue() : "still running", took,
                        output.length == 0 ? "" : " (" + new String(output).strip().replace('\n', ' ') + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the run ended before the fault was due (while sleeping)
            } catch (Exception e) {
                out.println("fault: could not run '" + command + "': " + e);
            }
        }, "ferry-load-fault");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Waits up to 120 s for a command that has started, even if the run ends meanwhile (the runner interrupts this
     * thread then): the fault happened, and its report must not be lost. The interrupt is kept.
     */
    private static boolean waitOut(Process p) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    return p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
