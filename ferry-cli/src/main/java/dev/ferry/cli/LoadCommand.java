package dev.ferry.cli;

import dev.ferry.FerryConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry load}: one scenario against a real database, on each pool in turn, side by side. */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = "Run a load scenario on a database with each pool in turn and compare them.")
final class LoadCommand implements Callable<Integer> {

    @Option(names = "--url", description = "JDBC URL of the database (every scenario but pool-spike)")
    String url;

    @picocli.CommandLine.Mixin
    Credentials credentials;

    @Option(names = "--scenario", required = true,
            description = "spike, sustained, ramp, peak-day, exhaustion, lookup, ingest, pool-spike (HikariCP's "
                    + "spike test on the stub driver: no database), or failover (--url the primary, --replica its "
                    + "streaming replica; see --chaos)")
    String scenarioName;

    @Option(names = "--pools", split = ",", defaultValue = "ferry,hikari,direct",
            description = "pools to compare, in order: ferry, ferry-batched, hikari, direct (default: ${DEFAULT-VALUE})")
    List<String> pools;

    @Option(names = "--batching", description = "on or off: Ferry batches requests (default: on for lookup and "
            + "ingest, off otherwise)")
    String batching;

    @Option(names = "--pool-size", description = "pool size for every pool (default: the scenario's)")
    Integer poolSize;

    @Option(names = "--clients", description = "concurrent clients (spike, exhaustion, lookup, ingest)")
    Integer clients;

    @Option(names = "--requests", description = "requests per client (spike, exhaustion)")
    Integer requests;

    @Option(names = "--rate", description = "arrivals per second (sustained)")
    Integer rate;

    @Option(names = "--rates", split = ",", description = "arrivals per second for each step (ramp, peak-day)")
    List<Integer> rates;

    @Option(names = "--duration", description = "seconds: the run (sustained, lookup, ingest) or each step (ramp, "
            + "peak-day)")
    Integer duration;

    @Option(names = "--hold-ms", description = "milliseconds each request keeps its connection (exhaustion)")
    Integer holdMs;

    @Option(names = "--mix", split = ",", paramLabel = "CRITICAL,NORMAL,BULK",
            description = "percent of requests at each priority, e.g. 5,80,15 (exhaustion's default); Ferry borrows "
                    + "at that priority, other pools have none")
    List<Integer> mix;

    @Option(names = "--reserve", defaultValue = "0",
            description = "Ferry's emergency reserve: connections beyond the pool size for CRITICAL requests only")
    int reserve;

    @Option(names = "--scale", defaultValue = "1", description = "accounts table size in 100,000s (default 1)")
    int scale;

    @Option(names = "--timeout-ms", defaultValue = "30000", description = "connection timeout for the pools")
    long timeoutMs;

    @Option(names = "--json", description = "write the figures as JSON to this file")
    Path json;

    @Option(names = "--report", description = "write a self-contained HTML report with plots to this file")
    Path report;

    @Option(names = "--warmup", defaultValue = "5000",
            description = "unmeasured requests per pool before measuring (default: ${DEFAULT-VALUE}; 0 for none)")
    int warmup;

    @Option(names = "--no-progress", description = "do not draw the progress bar")
    boolean noProgress;

    @Option(names = "--metrics-port", paramLabel = "PORT", description = "serve the pools' metrics (Prometheus "
            + "format) at http://HOST:PORT/metrics during the run; 9464 is the usual port")
    Integer metricsPort;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1", description = "address --metrics-port listens "
            + "on (default 127.0.0.1: this machine only)")
    String metricsHost;

    @Option(names = "--side-by-side", description = "run the pools at the same time (each with the full load) "
            + "instead of in turn, so they meet the same --fault-command at the same moment")
    boolean sideBySide;

    @Option(names = "--fault-command", paramLabel = "CMD",
            description = "a shell command run once during each pool's measured run, e.g. "
                    + "'pg_ctlcluster 15 main restart -m fast' (see --fault-at)")
    String faultCommand;

    @Option(names = "--fault-at", paramLabel = "SECONDS", defaultValue = "10",
            description = "seconds into each pool's measured run at which --fault-command runs (default: "
                    + "${DEFAULT-VALUE})")
    double faultAt;

    @Option(names = "--replica", paramLabel = "URL", description = "failover: JDBC URL of the primary's streaming "
            + "replica, the one to be promoted")
    String replica;

    @Option(names = "--chaos", paramLabel = "FAULT", description = "a fault at --fault-at: kill-backends[:interval] "
            + "(terminate a random backend of the run's own pools, by their application_name, every interval, default "
            + "1s, from then on), "
            + "restart (restart the local cluster behind --url, -m fast), or, with --scenario failover, promote (stop "
            + "the primary's cluster at once and promote the replica's a second later); clusters are found by port "
            + "with pg_lsclusters")
    String chaos;

    @Option(names = "--connect-ms", description = "pool-spike: milliseconds each connect takes (default 150)")
    Integer connectMs;

    @Option(names = "--query-ms", description = "pool-spike: milliseconds each query takes (default 2)")
    Integer queryMs;

    @Option(names = "--min", description = "pool-spike: minimumIdle of both pools (default 5)")
    Integer min;

    @Option(names = "--max", description = "pool-spike: maximumPoolSize of both pools (default 50)")
    Integer max;

    @Option(names = "--bursts", description = "pool-spike: bursts of --clients callers, each after the last has settled (default 1)")
    Integer bursts;

    @Option(names = "--repeat", description = "pool-spike: fresh instances of each pool, taking turns (default 5)")
    Integer repeat;

    @Option(names = "--sizing", description = "Ferry's sizing policy: none, reactive, scheduled or forecast (the "
            + "last two on ramp and peak-day, one step = one hour); pool-spike: reactive (default) or none")
    String sizing;

    @Option(names = "--min-idle", description = "minimumIdle for every pool (default: each pool's own; Ferry with "
            + "--sizing: 1)")
    Integer minIdleOption;

    @Option(names = "--forecast-history", description = "--sizing forecast: the history file (default: "
            + "ferry-forecast-<scenario>.txt in the working directory); the first run learns, later ones pre-warm")
    Path forecastHistoryOption;


    @Override
    public Integer call() throws Exception {
        if ("pool-spike".equalsIgnoreCase(scenarioName)) {
            if (chaos != null) {
                throw new IllegalArgumentException("--chaos: got it with --scenario pool-spike, which runs on the stub "
                        + "driver; allowed: a scenario on a real database");
            }
            return poolSpike();
        }
        if ("failover".equalsIgnoreCase(scenarioName)) {
            return failover();
        }
        if (replica != null) {
            throw new IllegalArgumentException("--replica: got it with --scenario " + scenarioName
                    + "; allowed: only with --scenario failover");
        }
        if (url == null) {
            throw new IllegalArgumentException("--url: missing; allowed: a JDBC URL (only pool-spike runs without one)");
        }
        Scenario scenario = scenario();
        Properties credentials = this.credentials.properties();
        boolean batch = batching == null ? scenario.batching() : parseOnOff(batching);
        List<String> poolNames = pools.stream().map(p -> p.trim().toLowerCase(Locale.ROOT)).collect(Collectors.toList());
        for (String p : poolNames) {
            if (!Target.POOLS.contains(p)) {
                throw new IllegalArgumentException("--pools: unknown pool '" + p + "'; allowed: "
                        + String.join(", ", Target.POOLS));
            }
        }
        if (scale < 1) {
            throw new IllegalArgumentException("--scale: got " + scale + "; allowed: 1 or more");
        }
        if (timeoutMs <= 0) {
            throw new IllegalArgumentException("--timeout-ms: got " + timeoutMs + "; allowed: a positive number");
        }
        Map<String, Object> settings = settings(scenario, batch);
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup: got " + warmup + "; allowed: 0 or more");
        }
        if (faultCommand != null && (faultCommand.isBlank() || faultAt < 0)) {
            throw new IllegalArgumentException("--fault-command/--fault-at: got '" + faultCommand + "' at " + faultAt
                    + " s; allowed: a command, at 0 s or later");
        }
        FaultInjector fault = fault(credentials);
        MetricsEndpoint metrics = metricsPort == null ? null : MetricsEndpoint.start(metricsHost, metricsPort);
        List<RunResult> results;
        try {
            if (metrics != null) {
                System.out.println("ferry load: metrics at " + metrics.address());
            }
            results = sideBySide
                    ? runSideBySide(System.out, url, credentials, scenario, poolNames, batch, scale,
                            Duration.ofMillis(timeoutMs), warmup, fault)
                    : run(System.out, url, credentials, scenario, poolNames, batch, scale,
                            Duration.ofMillis(timeoutMs), warmup, !noProgress, fault);
        } finally {
            if (metrics != null) {
                metrics.close();
            }
        }
        SummaryTable.print(System.out, scenario.name(), results, poolNames.get(poolNames.size() - 1));
        SummaryTable.printByPriority(System.out, results);
        StepTable.print(System.out, scenario, results);
        // Measured alone, as each pool ran alone; side by side the pools shared the machine, so no reference.
        ReferenceRate.Reference reference = sideBySide || fault != null ? null : ReferenceRate.measure(url,
                credentials, scenario.name(), (long) scale * Schema.ROWS_PER_SCALE, scenario.step());
        if (reference != null) {
            ReferenceRate.print(System.out, reference, results);
        }
        Map<String, Object> summary = JsonReport.toMap(scenario.name(), settings, results);
        if (reference != null) {
            summary.put("reference", ReferenceRate.toMap(reference, results));
        }
        if (json != null) {
            JsonReport.write(json, summary);
            System.out.println("wrote " + json);
        }
        if (report != null) {
            HtmlReport.write(report, "ferry load: " + scenario.name(), summary, results);
            System.out.println("wrote " + report);
        }
        return 0;
    }

    /**
     * The fault the run meets: {@code --fault-command}, or {@code --chaos restart} (the local cluster behind --url,
     * restarted with pg_ctlcluster in fast mode), or {@code --chaos kill-backends[:interval]}; none without either.
     */
    private FaultInjector fault(Properties credentials) throws Exception {
        Duration at = Duration.ofMillis((long) (faultAt * 1000));
        if (chaos != null && faultCommand != null) {
            throw new IllegalArgumentException("--chaos/--fault-command: got both; allowed: one fault per run");
        }
        if (chaos != null && faultAt < 0) {
            throw new IllegalArgumentException("--fault-at: got " + faultAt + " s; allowed: 0 s or later");
        }
        if (chaos == null) {
            return faultCommand == null ? null : new Fault(faultCommand, at);
        }
        String c = chaos.trim().toLowerCase(Locale.ROOT);
        if (c.equals("restart")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^jdbc:postgresql://([^/?]+)/.*$").matcher(url);
            if (!m.matches()) {
                throw new IllegalArgumentException("--chaos restart: got --url " + FerryConfig.maskUrl(url)
                        + "; allowed: a PostgreSQL URL of a cluster on this machine");
            }
            String[] cluster = FailoverRun.Chaos.cluster(m.group(1), "--url");
            return new Fault("pg_ctlcluster --skip-systemctl-redirect " + cluster[0] + " " + cluster[1]
                    + " restart -m fast", at);
        }
        if (c.equals("kill-backends") || c.startsWith("kill-backends:")) {
            return new BackendKiller(url, credentials, at, BackendKiller.interval(c));
        }
        if (c.equals("promote")) {
            throw new IllegalArgumentException("--chaos promote: got it with --scenario " + scenarioName
                    + "; allowed: only with --scenario failover (and --replica)");
        }
        throw new IllegalArgumentException("--chaos: got '" + chaos + "'; allowed: kill-backends, "
                + "kill-backends:<interval> (500ms, 2s), restart, or promote (failover)");
    }

    private int failover() throws Exception {
        if (chaos != null && !chaos.equalsIgnoreCase("promote")) {
            throw new IllegalArgumentException("--chaos: got '" + chaos + "'; allowed: promote (failover)");
        }
        int seconds = duration != null ? duration : 30;
        int n = clients != null ? clients : 8;
        if (seconds < 5 || n < 2 || timeoutMs <= 0 || faultAt < 0 || faultAt >= seconds - 2) {
            throw new IllegalArgumentException("failover: got --duration " + seconds + " --clients " + n
                    + " --timeout-ms " + timeoutMs + " --fault-at " + faultAt + "; allowed: duration 5 s or more, "
                    + "clients 2 or more, a positive timeout, fault-at from 0 to duration - 2 s");
        }
        List<String> poolNames = pools.stream().map(p -> p.trim().toLowerCase(Locale.ROOT))
                .filter(p -> !p.equals("direct")).collect(Collectors.toList());
        FailoverRun.Settings s = new FailoverRun.Settings(url, replica, credentials.properties(), poolNames, n,
                Duration.ofSeconds(seconds), Duration.ofMillis(timeoutMs), chaos != null,
                Duration.ofMillis((long) (faultAt * 1000)));
        List<FailoverRun.PoolRun> results = FailoverRun.run(System.out, s);
        if (json != null) {
            JsonReport.write(json, FailoverRun.toMap(s, results));
            System.out.println("wrote " + json);
        }
        return 0;
    }

    private int poolSpike() throws Exception {
        PoolSpike.Settings d = PoolSpike.defaults();
        PoolSpike.Settings s = new PoolSpike.Settings(clients != null ? clients : d.clients(),
                min != null ? min : d.min(), max != null ? max : d.max(),
                connectMs != null ? Duration.ofMillis(connectMs) : d.connect(),
                queryMs != null ? Duration.ofMillis(queryMs) : d.query(), bursts != null ? bursts : d.bursts(),
                sizing != null ? sizing : d.sizing(), repeat != null ? repeat : d.repeats());
        if (s.clients() < 1 || s.min() < 0 || s.max() < 1 || s.min() > s.max() || s.bursts() < 1 || s.repeats() < 1
                || s.connect().isNegative() || s.query().isNegative()) {
            throw new IllegalArgumentException("pool-spike: got --clients " + s.clients() + " --min " + s.min()
                    + " --max " + s.max() + " --bursts " + s.bursts() + " --repeat " + s.repeats()
                    + "; allowed: clients, bursts, repeat and max at least "
                    + "1, min from 0 to max, times 0 or more");
        }
        PoolSpike.sizing(s.sizing()); // fails now, naming the option, if unknown
        List<String> poolNames = pools.stream().map(p -> p.trim().toLowerCase(Locale.ROOT))
                .filter(p -> !p.equals("direct")).collect(Collectors.toList());
        List<PoolSpike.Result> results = PoolSpike.run(System.out, poolNames, s);
        PoolSpike.print(System.out, results);
        if (json != null) {
            JsonReport.write(json, PoolSpike.toMap(s, results));
            System.out.println("wrote " + json);
        }
        return 0;
    }

    private Map<String, Object> settings(Scenario s, boolean batch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("url", FerryConfig.maskUrl(url));
        m.put("pool_size", s.poolSize());
        m.put("shape", s.shape().toString().toLowerCase(Locale.ROOT));
        m.put("operation", s.op().toString().toLowerCase(Locale.ROOT));
        m.put("clients", s.clients());
        m.put("requests_per_client", s.requests());
        m.put("rates_per_s", s.rates());
        m.put("step_s", s.step().toMillis() / 1000.0);
        m.put("hold_ms", s.hold().toMillis());
        m.put("batching", batch);
        m.put("ferry_sizing", s.sizing());
        m.put("minimum_idle", s.minimumIdle() < 0 ? "pool default" : s.minimumIdle());
        m.put("scale", scale);
        m.put("warmup_requests", warmup);
        if (faultCommand != null) {
            m.put("fault_command", faultCommand);
            m.put("fault_at_s", faultAt);
        }
        if (chaos != null) {
            m.put("chaos", chaos);
            m.put("fault_at_s", faultAt);
        }
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("jdk", Runtime.version().toString());
        return m;
    }

    /** Runs the scenario on each pool in turn; shared by {@code load} and {@code demo}. */
    static List<RunResult> run(PrintStream out, String url, Properties credentials, Scenario scenario,
                               List<String> poolNames, boolean batching, int scale, Duration timeout,
                               int warmup, boolean progress) throws Exception {
        return run(out, url, credentials, scenario, poolNames, batching, scale, timeout, warmup, progress, null);
    }

    /** As above, running {@code fault} (if not null) during each pool's measured run. */
    static List<RunResult> run(PrintStream out, String url, Properties credentials, Scenario scenario,
                               List<String> poolNames, boolean batching, int scale, Duration timeout,
                               int warmup, boolean progress, FaultInjector fault) throws Exception {
        long accounts;
        try (Connection c = DriverManager.getConnection(url, credentials)) {
            accounts = Schema.prepare(c, scale);
        }
        out.printf(Locale.ROOT, "ferry load: scenario %s on %s, pools %s, pool size %d, %d cores%n", scenario.name(),
                FerryConfig.maskUrl(url), String.join(",", poolNames), scenario.poolSize(),
                Runtime.getRuntime().availableProcessors());
        if (warmup > 0) {
            // Whichever pool ran first would otherwise also pay for warming the JVM (JIT, driver, scheduler).
            for (String name : poolNames) {
                boolean batchThis = name.equals("ferry-batched") || (batching && name.equals("ferry"));
                long firstEvent;
                try (Connection c = DriverManager.getConnection(url, credentials)) {
                    firstEvent = Schema.resetEvents(c);
                }
                try (Target target = Target.create(name, url, credentials, scenario, timeout)) {
                    new LoadRunner(scenario, accounts, batchThis).rehearse(target, firstEvent,
                            name.equals("direct") ? Math.min(warmup, 200) : warmup);
                }
            }
        }
        List<RunResult> results = new ArrayList<>();
        for (String name : poolNames) {
            long firstEvent;
            try (Connection c = DriverManager.getConnection(url, credentials)) {
                firstEvent = Schema.resetEvents(c);
            }
            boolean batchThis = name.equals("ferry-batched") || (batching && name.equals("ferry"));
            long openedBefore = CountingDriver.opened(name);
            try (Target target = Target.create(name, url, credentials, scenario, timeout);
                 ProgressBar bar = progress ? bar(out, name + (batchThis ? "+b" : ""), scenario) : null) {
                LoadRunner runner = new LoadRunner(scenario, accounts, batchThis);
                if (fault != null) {
                    runner.withFault(fault, name, out);
                }
                RunResult r = runner.run(target, firstEvent, warmup, openedBefore, n -> {
                    if (bar != null) {
                        bar.stepBy(n);
                    }
                });
                results.add(r);
            }
        }
        return results;
    }

    /**
     * Runs every pool at the same time, each with the scenario's full load, measuring from the same moment; a
     * fault runs once and hits them all. The pools share the machine, so use it to compare behaviour under the
     * same fault, and the default (in turn) for throughput.
     */
    static List<RunResult> runSideBySide(PrintStream out, String url, Properties credentials, Scenario scenario,
                                         List<String> poolNames, boolean batching, int scale, Duration timeout,
                                         int warmup, FaultInjector fault) throws Exception {
        long accounts;
        long firstEvent;
        try (Connection c = DriverManager.getConnection(url, credentials)) {
            accounts = Schema.prepare(c, scale);
            firstEvent = Schema.resetEvents(c);
        }
        out.printf(Locale.ROOT, "ferry load: scenario %s on %s, pools %s side by side, pool size %d, %d cores%n",
                scenario.name(), FerryConfig.maskUrl(url), String.join(",", poolNames), scenario.poolSize(),
                Runtime.getRuntime().availableProcessors());
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(poolNames.size());
        java.util.concurrent.ExecutorService runners = java.util.concurrent.Executors.newFixedThreadPool(
                poolNames.size());
        List<Target> targets = new ArrayList<>();
        try {
            List<java.util.concurrent.Future<RunResult>> futures = new ArrayList<>();
            for (int i = 0; i < poolNames.size(); i++) {
                String name = poolNames.get(i);
                boolean batchThis = name.equals("ferry-batched") || (batching && name.equals("ferry"));
                long openedBefore = CountingDriver.opened(name);
                Target target = Target.create(name, url, credentials, scenario, timeout);
                targets.add(target);
                LoadRunner runner = new LoadRunner(scenario, accounts, batchThis).startingWith(together);
                if (fault != null && i == 0) {
                    runner.withFault(fault, String.join(",", poolNames), out);
                }
                // Each pool writes its own range of event ids, so concurrent ingest runs do not collide.
                long events = firstEvent + i * 1_000_000_000L;
                futures.add(runners.submit(() -> runner.run(target, events, warmup, openedBefore, n -> { })));
            }
            List<RunResult> results = new ArrayList<>();
            for (java.util.concurrent.Future<RunResult> f : futures) {
                results.add(f.get());
            }
            return results;
        } finally {
            runners.shutdownNow();
            for (Target t : targets) {
                t.close();
            }
        }
    }

    /**
     * Whether the output is an interactive terminal. Up to JDK 21 {@code System.console()} is null when it is not;
     * from JDK 22 a console may be returned for redirected output too, and {@code Console.isTerminal()} (JDK 22+,
     * read by reflection: we build for 17) says which.
     */
    static boolean terminal() {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException beforeJdk22) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false; // when in doubt, plain lines: they read well on a terminal too
        }
    }

    /** How often the progress line is printed when there is no terminal to redraw a bar on. */
    static final int LOG_PROGRESS_MILLIS = 5000;

    /**
     * A progress bar redrawn in place on a terminal. Without one (output to a file or a CI log, where redrawing
     * would write hundreds of {@code \r} frames into one line) it is a plain line on {@code out} every
     * {@link #LOG_PROGRESS_MILLIS}, and one at the end.
     */
    private static ProgressBar bar(PrintStream out, String task, Scenario scenario) {
        long expected = scenario.expectedRequests();
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "%-8s", task))
                .setInitialMax(expected > 0 ? expected : -1).setStyle(ProgressBarStyle.ASCII).showSpeed()
                .continuousUpdate();
        if (!terminal()) {
            java.util.concurrent.atomic.AtomicReference<String> last = new java.util.concurrent.atomic.AtomicReference<>();
            b.setConsumer(new me.tongfei.progressbar.DelegatingProgressBarConsumer(line -> {
                if (!line.equals(last.getAndSet(line))) { // closing renders the last state once more
                    out.println(line);
                }
            }, 100)).setUpdateIntervalMillis(LOG_PROGRESS_MILLIS);
        } else {
            b.setUpdateIntervalMillis(250);
        }
        return b.build();
    }

    private Scenario scenario() {
        Scenario s = Scenario.named(scenarioName);
        int c = positive("--clients", clients, s.clients());
        int r = positive("--requests", requests, s.requests());
        List<Integer> rs = s.rates();
        if (rate != null) {
            rs = List.of(positive("--rate", rate, 0));
        }
        if (rates != null) {
            for (Integer x : rates) {
                positive("--rates", x, 0);
            }
            rs = List.copyOf(rates);
        }
        Duration step = duration == null ? s.step() : Duration.ofSeconds(positive("--duration", duration, 0));
        Duration hold = holdMs == null ? s.hold() : Duration.ofMillis(notNegative("--hold-ms", holdMs));
        int size = positive("--pool-size", poolSize, s.poolSize());
        List<Integer> m = s.mix();
        if (mix != null) {
            if (mix.size() != 3 || mix.stream().anyMatch(x -> x < 0) || mix.stream().mapToInt(x -> x).sum() != 100) {
                throw new IllegalArgumentException("--mix: got " + mix + "; allowed: three percentages for CRITICAL, "
                        + "NORMAL and BULK that add up to 100, e.g. 5,80,15");
            }
            m = List.copyOf(mix);
        }
        notNegative("--reserve", reserve);
        int minIdle = minIdleOption == null ? -1 : notNegative("--min-idle", minIdleOption);
        if (minIdle > size) {
            throw new IllegalArgumentException("--min-idle: got " + minIdle + "; allowed: 0 to the pool size (" + size
                    + ")");
        }
        Scenario out = new Scenario(s.name(), s.shape(), s.op(), c, r, rs, step, hold, size, s.batching(), m, reserve,
                sizing == null ? "none" : sizing.toLowerCase(Locale.ROOT), minIdle, forecastHistoryOption);
        ScenarioSizing.check(out.sizing(), out);
        return out;
    }

    private static int positive(String option, Integer value, int fallback) {
        if (value == null) {
            return fallback;
        }
        if (value <= 0) {
            throw new IllegalArgumentException(option + ": got " + value + "; allowed: a positive number");
        }
        return value;
    }

    private static int notNegative(String option, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(option + ": got " + value + "; allowed: 0 or more");
        }
        return value;
    }

    private static boolean parseOnOff(String value) {
        switch (value.toLowerCase(Locale.ROOT)) {
            case "on":
            case "true":
                return true;
            case "off":
            case "false":
                return false;
            default:
                throw new IllegalArgumentException("--batching: got '" + value + "'; allowed: on, off");
        }
    }

    /** Thrown when the database cannot be reached, with a one-line reason. */
    static String describe(SQLException e) {
        return e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(e.toString());
    }
}
