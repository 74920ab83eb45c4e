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
        out.printf(Locale.ROOT, "%-14s %9s %9s %8s %8s %10s | %-27s | %-27s | %6s %5s %9s %8s %8s  %s%n", "pool",
                "requests", "success", "failed", "timeouts", "req/s", "latency ms p50/p95/p99/max",
                "acquire ms p50/p95/p99/max", "conns", "peak", "trips", "req/trip", "vs " + base.pool(), "errors");
        for (RunResult r : results) {
            String errors = r.errors().isEmpty() ? "-" : r.errors().entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
            String acquire = r.acquire().getTotalCount() == 0 ? "- (batched)" : percentiles(r.acquire());
            String ratio = base.throughputPerSecond() > 0
                    ? String.format(Locale.ROOT, "%.2fx", r.throughputPerSecond() / base.throughputPerSecond()) : "-";
            String perTrip = r.roundTrips() > 0
                    ? String.format(Locale.ROOT, "%.1f", (double) r.succeeded() / r.roundTrips()) : "-";
            String name = r.pool() + (r.batched() && !r.pool().contains("batched") ? " (b)" : "");
            out.printf(Locale.ROOT, "%-14s %9d %8s%% %8d %8d %10.0f | %-27s | %-27s | %6d %5d %9d %8s %8s  %s%n",
                    name, r.requests(), RunResult.successText(r.succeeded(), r.requests()), r.failed(), r.timeouts(),
                    r.throughputPerSecond(),
                    percentiles(r.latency()), acquire, r.connectionsOpened(), r.peakPoolSize(), r.roundTrips(),
                    perTrip, ratio, errors);
        }
        out.println("(b: batched; acquire: time to get a connection; conns: physical connections opened; "
                + "peak: most connections at once; trips: statements sent; req/trip: batching efficiency; "
                + "vs: throughput ratio)");
        for (RunResult r : results) {
            if (r.batch() != null) {
                out.printf(Locale.ROOT, "%s batching: %s%n", r.pool(), r.batch().describe());
            }
        }
    }

    /** Per priority, when the scenario mixes priorities: requests, success, latency and acquire percentiles. */
    static void printByPriority(PrintStream out, List<RunResult> results) {
        if (results.stream().allMatch(r -> r.byPriority().keySet().equals(java.util.Set.of("normal")))) {
            return;
        }
        out.printf(Locale.ROOT, "%nby priority (Ferry borrows at the request's priority; other pools have none)%n");
        out.printf(Locale.ROOT, "%-14s %-9s %9s %9s %8s %8s | %-27s | %-27s%n", "pool", "priority", "requests", "ok",
                "failed", "timeouts", "latency p50/p95/p99/max ms", "acquire p50/p95/p99/max ms");
        for (RunResult r : results) {
            r.byPriority().forEach((name, b) -> out.printf(Locale.ROOT, "%-14s %-9s %9d %8s%% %8d %8d | %-27s | %-27s%n",
                    r.pool(), name, b.requests(), RunResult.successText(b.succeeded(), b.requests()), b.failed(),
                    b.timeouts(), percentiles(b.latency()),
                    b.acquire().getTotalCount() == 0 ? "-" : percentiles(b.acquire())));
            if (r.reserveUses() > 0) {
                out.printf(Locale.ROOT, "%-14s reserve: %d connections opened for CRITICAL requests%n", r.pool(),
                        r.reserveUses());
            }
        }
    }

    private static String percentiles(org.HdrHistogram.Histogram h) {
        return String.format(Locale.ROOT, "%s/%s/%s/%s", fmt(RunResult.ms(h, 50)), fmt(RunResult.ms(h, 95)),
                fmt(RunResult.ms(h, 99)), fmt(RunResult.maxMs(h)));
    }

    private static String fmt(double ms) {
        return ms >= 100 ? String.format(Locale.ROOT, "%.0f", ms) : ms >= 10
                ? String.format(Locale.ROOT, "%.1f", ms) : String.format(Locale.ROOT, "%.2f", ms);
    }
}
