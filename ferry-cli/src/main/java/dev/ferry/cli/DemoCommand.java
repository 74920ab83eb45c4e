package dev.ferry.cli;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The same workload (point lookups from many concurrent clients) three ways: a new connection per request, a
 * HikariCP pool and a Ferry pool of the same size. Runs on an embedded H2 database by default: no server needed.
 *
 * <p>This is the pool-only demo of the first milestone; batching and the HTML report join it with the CLI issue.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Compare no pool, HikariCP and Ferry on the same workload (embedded H2 by default).")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--url", description = "JDBC URL (default: ${DEFAULT-VALUE})",
            defaultValue = "jdbc:h2:mem:ferrydemo;DB_CLOSE_DELAY=-1")
    String url;

    @Option(names = "--clients", description = "Concurrent clients (default: ${DEFAULT-VALUE})", defaultValue = "64")
    int clients;

    @Option(names = "--requests", description = "Requests per client (default: ${DEFAULT-VALUE})",
            defaultValue = "500")
    int requests;

    @Option(names = "--pool-size", description = "Pool size for both pools (default: ${DEFAULT-VALUE})",
            defaultValue = "8")
    int poolSize;

    private static final int ROWS = 10_000;

    @Override
    public Integer call() throws Exception {
        if (clients < 1 || requests < 1 || poolSize < 1) {
            System.err.println("ferry demo: --clients, --requests and --pool-size must be at least 1 (got "
                    + clients + ", " + requests + ", " + poolSize + ")");
            return 2;
        }
        PrintStream out = System.out;
        String counted = CountingDriver.wrap(url);
        createSchema();
        out.printf(Locale.ROOT, "ferry demo: %d clients x %d point lookups, pool size %d, on %s (%d cores)%n%n",
                clients, requests, poolSize, url.replaceFirst(";.*", ""), Runtime.getRuntime().availableProcessors());
        List<Result> results = new ArrayList<>();
        results.add(measure("no pool", () -> DriverManager.getConnection(counted), CountingDriver.OPENED.get()));
        long opened = CountingDriver.OPENED.get();
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(counted);
        hikari.setMaximumPoolSize(poolSize);
        hikari.setPoolName("demo-hikari");
        try (HikariDataSource ds = new HikariDataSource(hikari)) {
            results.add(measure("HikariCP", ds::getConnection, opened));
        }
        opened = CountingDriver.OPENED.get();
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(counted)
                .maximumPoolSize(poolSize).poolName("demo-ferry").build())) {
            results.add(measure("Ferry", ds::getConnection, opened));
        }
        out.printf(Locale.ROOT, "%-10s %12s %10s %10s %10s %12s %10s%n", "mode", "requests/s", "p50 ms", "p99 ms",
                "max ms", "connections", "vs no pool");
        double base = results.get(0).throughput;
        for (Result r : results) {
            out.printf(Locale.ROOT, "%-10s %12.0f %10.3f %10.3f %10.3f %12d %9.2fx%n", r.name, r.throughput,
                    r.latency.getValueAtPercentile(50) / 1e6, r.latency.getValueAtPercentile(99) / 1e6,
                    r.latency.getMaxValue() / 1e6, r.connectionsOpened, r.throughput / base);
        }
        out.printf(Locale.ROOT, "%n'connections': physical connections opened, from pool start to the end of the run.%n");
        return 0;
    }

    private interface ConnectionSource {
        Connection get() throws SQLException;
    }

    private record Result(String name, double throughput, Histogram latency, long connectionsOpened) {
    }

    private void createSchema() throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS demo_user");
            s.execute("CREATE TABLE demo_user (id INT PRIMARY KEY, name VARCHAR(64))");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO demo_user VALUES (?, ?)")) {
                for (int i = 1; i <= ROWS; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "user-" + i);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
    }

    /** Runs the workload; connections are counted from {@code openedBefore}, taken before the pool was made. */
    private Result measure(String name, ConnectionSource source, long openedBefore) throws Exception {
        Recorder recorder = new Recorder(3);
        ExecutorService executor = Executors.newFixedThreadPool(clients);
        long start = System.nanoTime();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                futures.add(executor.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < requests; i++) {
                        long t0 = System.nanoTime();
                        try (Connection c = source.get();
                             PreparedStatement ps = c.prepareStatement("SELECT name FROM demo_user WHERE id = ?")) {
                            ps.setInt(1, random.nextInt(1, ROWS + 1));
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                            }
                        }
                        recorder.recordValue(System.nanoTime() - t0);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            executor.shutdownNow();
        }
        double seconds = Duration.ofNanos(System.nanoTime() - start).toNanos() / 1e9;
        return new Result(name, (double) clients * requests / seconds, recorder.getIntervalHistogram(),
                CountingDriver.OPENED.get() - openedBefore);
    }
}
