package dev.ferry.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * For stepped open-loop scenarios (ramp, peak-day): each pool's figures per step, from its time series, so the
 * pool size at each load level shows in the terminal as well as in the report.
 */
final class StepTable {

    private StepTable() {
    }

    static void print(PrintStream out, Scenario scenario, List<RunResult> results) {
        if (scenario.shape() != Scenario.Shape.OPEN || scenario.rates().size() < 2) {
            return;
        }
        double step = scenario.step().toMillis() / 1000.0;
        out.printf(Locale.ROOT, "%nper step (%.0f s each): achieved req/s, p99 ms, pool size mean/max, max waiting%n", step);
        out.printf(Locale.ROOT, "%-8s", "rate/s");
        for (RunResult r : results) {
            out.printf(Locale.ROOT, " | %-38s", r.pool());
        }
        out.println();
        for (int i = 0; i < scenario.rates().size(); i++) {
            out.printf(Locale.ROOT, "%-8d", scenario.rates().get(i));
            for (RunResult r : results) {
                double from = i * step;
                double to = from + step;
                List<RunResult.Sample> in = r.samples().stream().filter(s -> s.t() > from && s.t() <= to).toList();
                if (in.isEmpty()) {
                    out.printf(Locale.ROOT, " | %-38s", "-");
                    continue;
                }
                double rate = in.stream().mapToDouble(RunResult.Sample::throughput).average().orElse(0);
                double p99 = in.stream().mapToDouble(RunResult.Sample::p99Ms).max().orElse(0);
                double size = in.stream().mapToInt(RunResult.Sample::poolSize).average().orElse(0);
                int maxSize = in.stream().mapToInt(RunResult.Sample::poolSize).max().orElse(0);
                int waiting = in.stream().mapToInt(RunResult.Sample::waiting).max().orElse(0);
                out.printf(Locale.ROOT, " | %-38s", String.format(Locale.ROOT, "%7.0f %8.2f %5.1f/%-3d %5d", rate, p99,
                        size, maxSize, waiting));
            }
            out.println();
        }
    }
}
