package dev.ferry.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The side-by-side table printed after a run, with ratios against the first pool. */
final class SummaryTable {

    private SummaryTable() {
    }

    /** Prints the table; the last column is each pool's throughput relative to {@code baseline}'s. */
    static void print(PrintStream out, String scenario, List<RunResult> results, String baseline) {
        RunResult base = results.stream().filter(r -> r.pool().equals(baseline)).findFirst()
                .orElse(results.get(results.size() - 1));
        out.printf(Locale.ROOT, "%nscenario %s%n", scenario);
        out.printf(Locale.ROOT, "%-14s %9s %8s %8s %11s %8s %8s %8s %8s %8s %7s %5s %8s %9s  %s%n", "pool", "requests",
                "success", "timeouts", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "acq p99", "conns", "peak",
                "trips", "vs " + base.pool(), "errors");
        for (RunResult r : results) {
            String errors = r.errors().isEmpty() ? "-" : r.errors().entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
            String acquire = r.acquire().getTotalCount() == 0 ? "-"
                    : String.format(Locale.ROOT, "%.2f", RunResult.ms(r.acquire(), 99));
            String ratio = base.throughputPerSecond() > 0
                    ? String.format(Locale.ROOT, "%.2fx", r.throughputPerSecond() / base.throughputPerSecond()) : "-";
            String name = r.pool() + (r.batched() && !r.pool().contains("batched") ? " (b)" : "");
            out.printf(Locale.ROOT, "%-14s %9d %7.1f%% %8d %11.0f %8.2f %8.2f %8.2f %8.2f %8s %7d %5d %8d %9s  %s%n",
                    name, r.requests(), r.successPercent(), r.timeouts(), r.throughputPerSecond(),
                    RunResult.ms(r.latency(), 50), RunResult.ms(r.latency(), 95), RunResult.ms(r.latency(), 99),
                    RunResult.maxMs(r.latency()), acquire, r.connectionsOpened(), r.peakPoolSize(), r.roundTrips(),
                    ratio, errors);
        }
        out.println("(b: batched; acq p99: time to get a connection; conns: physical connections opened; "
                + "peak: most connections at once; trips: statements sent; vs: throughput ratio)");
    }
}
