package dev.ferry.cli;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import dev.ferry.capacity.SizingPolicy;
import dev.ferry.testkit.StubDatabase;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;

/**
 * {@code ferry load --scenario pool-spike}: HikariCP's spike test ("Welcome to the Jungle" in its wiki), on the
 * stub driver so that connect and query times are exactly what the scenario says. Each pool starts at its
 * minimum; {@code clients} callers then each borrow once, run one query and return, all at the same instant;
 * the run waits two connect times for connects under way to land, and repeats for {@code bursts} bursts (one by
 * default, as in HikariCP's test). That is done on {@code repeats} fresh instances of each pool, the pools
 * taking turns, and their acquire times are pooled, so a percentile rests on more than one spike's fifty
 * samples. Before all that, the same spike on a throwaway instance of each pool warms the JIT up.
 * Measured per pool: the time to acquire a connection, the most connections ever open at once (the stub's own
 * count), and the pool's size after the last burst has settled. A pool that opens connections which arrive
 * after the queue is gone ends larger, and gains nothing for it.
 */
final class PoolSpike {

    /** The scenario's parameters (defaults: HikariCP's). */
    record Settings(int clients, int min, int max, Duration connect, Duration query, int bursts, String sizing,
                    int repeats) {
    }

    /**
     * One pool's figures over all its instances: the largest final and peak sizes any instance reached, the
     * connections all of them opened, every acquire time.
     */
    record Result(String pool, int finalPoolSize, int peakPoolSize, long connectionsOpened, long requests,
                  long failed, Histogram acquire) {
    }

    private PoolSpike() {
    }

    static Settings defaults() {
        return new Settings(50, 5, 50, Duration.ofMillis(150), Duration.ofMillis(2), 1, "reactive", 5);
    }

    /** The Ferry sizing named on the command line: reactive, or none (HikariCP's). */
    static SizingPolicy sizing(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "reactive":
                return SizingPolicy.reactive();
            case "none":
                return null;
            default:
                throw new IllegalArgumentException("--sizing: got '" + name + "' for pool-spike; allowed: reactive, none");
        }
    }

    static List<Result> run(PrintStream out, List<String> pools, Settings s) throws Exception {
        out.printf(Locale.ROOT, "ferry load: scenario pool-spike on the stub driver: %d clients at once, %d burst(s) "
                        + "per pool instance, %d fresh instances per pool, connect %d ms, query %d ms, min %d, max %d, "
                        + "Ferry sizing %s, %d cores%n", s.clients(), s.bursts(), s.repeats(), s.connect().toMillis(),
                s.query().toMillis(), s.min(), s.max(), s.sizing(), Runtime.getRuntime().availableProcessors());
        // One unmeasured spike on a throwaway instance of each pool warms the JIT up, so every measured instance
        // starts compiled and at its minimum (a warm-up on a measured instance would leave a pool that grew
        // during it larger for the measured spike).
        Settings warmup = new Settings(s.clients(), s.min(), s.max(), s.connect(), s.query(), 1, s.sizing(), 1);
        for (String pool : pools) {
            measure(pool, warmup);
        }
        Map<String, Result> total = new LinkedHashMap<>();
        for (int r = 0; r < s.repeats(); r++) {
            List<String> order = new ArrayList<>(pools);
            if (r % 2 == 1) {
                java.util.Collections.reverse(order); // neither pool always runs on the machine the other left
            }
            for (String pool : order) {
                Result one = measure(pool, s);
                total.merge(pool, one, PoolSpike::combine);
            }
        }
        List<Result> results = new ArrayList<>();
        for (String pool : pools) {
            results.add(total.get(pool));
        }
        return results;
    }

    /** Two instances' figures as one: the larger sizes, the sums of counts, all acquire times. */
    private static Result combine(Result a, Result b) {
        Histogram acquire = a.acquire().copy();
        acquire.add(b.acquire());
        return new Result(a.pool(), Math.max(a.finalPoolSize(), b.finalPoolSize()),
                Math.max(a.peakPoolSize(), b.peakPoolSize()), a.connectionsOpened() + b.connectionsOpened(),
                a.requests() + b.requests(), a.failed() + b.failed(), acquire);
    }

    private static Result measure(String pool, Settings s) throws Exception {
        StubDatabase db = StubDatabase.create();
        db.connectDelayNanos = s.connect().toNanos();
        db.executeDelayNanos = s.query().toNanos();
        Histogram acquire = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
        long failed = 0;
        ExecutorService clients = Executors.newFixedThreadPool(s.clients());
        try (Pool p = open(pool, db, s)) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (p.size.getAsInt() < s.min() && System.nanoTime() - until < 0) {
                Thread.sleep(10); // both pools fill their minimum in the background
            }
            Thread.sleep(500);
            for (int burst = 0; burst < s.bursts(); burst++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Long>> calls = new ArrayList<>();
                for (int i = 0; i < s.clients(); i++) {
                    calls.add(clients.submit(() -> {
                        go.await();
                        long start = System.nanoTime();
                        try (Connection c = p.ds.getConnection()) {
                            long acquired = System.nanoTime() - start;
                            try (Statement st = c.createStatement()) {
                                st.execute("SELECT 1");
                            }
                            return acquired;
                        }
                    }));
                }
                go.countDown();
                for (Future<Long> f : calls) {
                    try {
                        acquire.recordValue(f.get());
                    } catch (java.util.concurrent.ExecutionException e) {
                        failed++;
                    }
                }
                Thread.sleep(2 * s.connect().toMillis() + 100); // connects under way land
            }
            return new Result(pool, p.size.getAsInt(), db.peakOpen.get(), db.opened.get(),
                    (long) s.bursts() * s.clients(), failed, acquire);
        } finally {
            clients.shutdownNow();
        }
    }

    private record Pool(DataSource ds, IntSupplier size, AutoCloseable closer) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            closer.close();
        }
    }

    private static Pool open(String pool, StubDatabase db, Settings s) throws SQLException {
        switch (pool) {
            case "ferry": {
                FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(db.url())
                        .driverClassName("dev.ferry.testkit.StubDriver").poolName("ferry").minimumIdle(s.min())
                        .maximumPoolSize(s.max()).sizing(sizing(s.sizing())).build());
                FerryPool fp = ds.unwrap(FerryPool.class);
                return new Pool(ds, fp::totalConnections, ds);
            }
            case "hikari": {
                HikariConfig c = new HikariConfig();
                c.setJdbcUrl(db.url());
                c.setDriverClassName("dev.ferry.testkit.StubDriver");
                c.setPoolName("hikari");
                c.setMinimumIdle(s.min());
                c.setMaximumPoolSize(s.max());
                HikariDataSource ds = new HikariDataSource(c);
                return new Pool(ds, () -> ds.getHikariPoolMXBean().getTotalConnections(), ds);
            }
            default:
                throw new IllegalArgumentException("--pools: got '" + pool + "' for pool-spike; allowed: ferry, hikari");
        }
    }

    static void print(PrintStream out, List<Result> results) {
        out.printf(Locale.ROOT, "%n%-8s %10s %10s %10s %12s %12s %12s %8s%n", "pool", "final size", "peak size",
                "opened", "acquire p50", "acquire p99", "acquire max", "failed");
        for (Result r : results) {
            out.printf(Locale.ROOT, "%-8s %10d %10d %10d %9.2f ms %9.2f ms %9.2f ms %8d%n", r.pool(),
                    r.finalPoolSize(), r.peakPoolSize(), r.connectionsOpened(), RunResult.ms(r.acquire(), 50),
                    RunResult.ms(r.acquire(), 99), RunResult.maxMs(r.acquire()), r.failed());
        }
    }

    /**
     * JSON: {@code {"scenario": "pool-spike", "settings": {...}, "pools": {"<pool>": {"final_pool_size",
     * "peak_pool_size", "connections_opened", "requests", "failed", "acquire_ms": {p50, p95, p99, max}}}}}; sizes
     * are the largest any instance reached, counts are summed over the instances.
     */
    static Map<String, Object> toMap(Settings s, List<Result> results) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("driver", "stub");
        settings.put("clients", s.clients());
        settings.put("bursts", s.bursts());
        settings.put("instances_per_pool", s.repeats());
        settings.put("connect_ms", s.connect().toMillis());
        settings.put("query_ms", s.query().toMillis());
        settings.put("min", s.min());
        settings.put("max", s.max());
        settings.put("ferry_sizing", s.sizing());
        settings.put("cores", Runtime.getRuntime().availableProcessors());
        settings.put("jdk", Runtime.version().toString());
        Map<String, Object> pools = new LinkedHashMap<>();
        for (Result r : results) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("final_pool_size", r.finalPoolSize());
            p.put("peak_pool_size", r.peakPoolSize());
            p.put("connections_opened", r.connectionsOpened());
            p.put("requests", r.requests());
            p.put("failed", r.failed());
            p.put("acquire_ms", JsonReport.percentiles(r.acquire()));
            pools.put(r.pool(), p);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("scenario", "pool-spike");
        root.put("settings", settings);
        root.put("pools", pools);
        return root;
    }
}
