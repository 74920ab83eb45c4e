package dev.ferry.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import dev.ferry.Priority;
import dev.ferry.batch.BatchedLookup;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every meter moving under a scripted workload on embedded H2, values read back from the registry; under the
 * settings users pick (a pool of 2, minimumIdle 0 and 1, a 250 ms connectionTimeout).
 */
class MicrometerBindingTest {

    private static final AtomicInteger DBS = new AtomicInteger();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private FerryDataSource ds;

    private static FerryConfig.Builder h2(String pool) {
        return FerryConfig.builder().jdbcUrl("jdbc:h2:mem:micrometer" + DBS.incrementAndGet() + ";DB_CLOSE_DELAY=-1")
                .poolName(pool).connectionTimeout(Duration.ofMillis(250));
    }

    private FerryPool start(FerryConfig.Builder config) throws SQLException {
        ds = new FerryDataSource(config.build());
        ds.start();
        return ds.unwrap(FerryPool.class);
    }

    @AfterEach
    void close() {
        threads.shutdownNow();
        if (ds != null) {
            ds.close();
        }
    }

    private double gauge(String name, String pool) {
        return registry.get(name).tag("pool", pool).gauge().value();
    }

    private long timerCount(String name, String pool) {
        return registry.get(name).tag("pool", pool).timer().count();
    }

    private double counter(String name, Tags tags) {
        return registry.get(name).tags(tags).counter().count();
    }

    @ParameterizedTest(name = "minimumIdle={0}")
    @ValueSource(ints = {0, 1})
    void poolMetersFollowAScriptedWorkload(int minimumIdle) throws Exception {
        String name = "scripted-" + minimumIdle;
        FerryPool pool = start(h2(name).maximumPoolSize(2).minimumIdle(minimumIdle).metricRegistry(registry));
        assertThat(gauge("ferry.connections.max", name)).isEqualTo(2);
        assertThat(gauge("ferry.connections.min", name)).isEqualTo(minimumIdle);
        Connection a = ds.getConnection();
        Connection b = ds.getConnection();
        assertThat(gauge("ferry.connections.active", name)).isEqualTo(2);
        assertThat(gauge("ferry.connections.idle", name)).isZero();
        assertThat(gauge("ferry.connections", name)).isEqualTo(2);
        assertThat(timerCount("ferry.connections.acquire", name)).isEqualTo(2);
        assertThat(timerCount("ferry.connections.creation", name)).isEqualTo(2);

        assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class);
        assertThat(counter("ferry.connections.timeout", Tags.of("pool", name))).isEqualTo(1);
        assertThat(registry.get("ferry.connections.acquire").tag("pool", name).timer().count())
                .as("a timeout is not an acquisition").isEqualTo(2);

        Future<Connection> waiter = threads.submit(() -> pool.getConnection(Priority.NORMAL, Duration.ofSeconds(10)));
        await().until(() -> gauge("ferry.connections.pending", name) == 1);
        a.close();
        Connection c = waiter.get(10, TimeUnit.SECONDS);
        assertThat(gauge("ferry.connections.pending", name)).isZero();
        assertThat(timerCount("ferry.connections.usage", name)).isEqualTo(1);
        assertThat(registry.get("ferry.connections.acquire").tag("pool", name).timer()
                .max(TimeUnit.NANOSECONDS)).as("the waiter's wait is in the timer").isPositive();
        b.close();
        c.close();
        assertThat(timerCount("ferry.connections.usage", name)).isEqualTo(3);
        assertThat(gauge("ferry.connections.idle", name)).isEqualTo(2);

        pool.softEvictConnections();
        await().until(() -> counter("ferry.connections.evicted", Tags.of("pool", name, "reason", "soft eviction"))
                == 2); // closed in the background
        assertThat(counter("ferry.connections.evicted", Tags.of("pool", name, "reason", "idle timeout")))
                .as("registered at zero").isZero();
        pool.setMaximumPoolSize(5);
        assertThat(gauge("ferry.connections.max", name)).isEqualTo(5);
    }

    @Test
    void leaksReserveAndRejectionsAreCounted() throws Exception {
        String name = "faults";
        FerryPool pool = start(h2(name).maximumPoolSize(1).minimumIdle(0).reserve(1).maxWaiting(1)
                .connectionTimeout(Duration.ofSeconds(5)).metricsTrackerFactory(
                        new MicrometerMetricsTrackerFactory(registry)));
        try (Connection held = ds.getConnection()) {
            try (Connection critical = ds.getConnection(Priority.CRITICAL)) {
                assertThat(critical.isValid(1)).isTrue();
            }
            assertThat(counter("ferry.connections.reserve.used", Tags.of("pool", name))).isEqualTo(1);
            Future<Connection> waiter = threads.submit(() -> ds.getConnection());
            await().until(() -> pool.waitingThreads() == 1);
            assertThatThrownBy(ds::getConnection).hasMessageContaining("maxWaiting=1");
            assertThat(counter("ferry.connections.rejected", Tags.of("pool", name, "reason", "maxWaiting")))
                    .isEqualTo(1);
            held.close();
            waiter.get(10, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void lanesHaveTheirOwnMeters() throws Exception {
        String name = "lanes";
        start(h2(name).maximumPoolSize(3).minimumIdle(0).lane("reports", 0, 1)
                .metricRegistry(registry));
        Tags reports = Tags.of("pool", name, "lane", "reports");
        assertThat(registry.get("ferry.lane.max").tags(reports).gauge().value()).isEqualTo(1);
        try (Connection c = ds.lane("reports").getConnection()) {
            assertThat(registry.get("ferry.lane.active").tags(reports).gauge().value()).isEqualTo(1);
            assertThatThrownBy(() -> ds.lane("reports").getConnection()).as("the lane's cap")
                    .isInstanceOf(SQLTransientConnectionException.class);
            assertThat(counter("ferry.lane.timeout", reports)).isEqualTo(1);
        }
        assertThat(registry.get("ferry.lane.acquire").tags(reports).timer().count()).isEqualTo(1);
        assertThat(registry.get("ferry.lane.active").tags(reports).gauge().value()).isZero();
        ds.getConnection().close(); // the main lane
        assertThat(registry.get("ferry.lane.acquire").tags("pool", name, "lane", "main").timer().count())
                .isEqualTo(1);
        assertThat(timerCount("ferry.connections.acquire", name)).isEqualTo(2);
    }

    @Test
    void batchedLookupsOnThePoolReportBatchMeters() throws Exception {
        start(h2("batch").maximumPoolSize(4).minimumIdle(0).metricRegistry(registry));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(50))");
            s.execute("INSERT INTO users SELECT x, 'user-' || x FROM SYSTEM_RANGE(1, 500)");
        }
        try (BatchedLookup<Long, String> users = ds.<Long, String>batchedLookup(Long.class).name("users")
                .sql("SELECT id, name FROM users WHERE id IN (:keys)").key(rs -> rs.getLong("id"))
                .row(rs -> rs.getString("name")).build()) {
            List<CompletableFuture<?>> all = new ArrayList<>();
            for (long id = 1; id <= 300; id++) {
                all.add(users.load(id));
            }
            CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            Tags tags = Tags.of("batcher", "users");
            assertThat(registry.get("ferry.batch.requests").tags(tags).functionCounter().count()).isEqualTo(300);
            double trips = registry.get("ferry.batch.round.trips").tags(tags).functionCounter().count();
            assertThat(trips).isBetween(1.0, 299.0);
            assertThat(registry.get("ferry.batch.size").tags(tags).summary().totalAmount()).isEqualTo(300);
            assertThat(registry.get("ferry.batch.size").tags(tags).summary().count()).isEqualTo((long) trips);
            double byReason = registry.get("ferry.batch.flushes").tags(tags).functionCounters().stream()
                    .mapToDouble(f -> f.count()).sum();
            assertThat(byReason).isEqualTo(trips);
            assertThat(registry.get("ferry.batch.queue.wait").tags(tags).functionTimer().count()).isEqualTo(300);
        }
        assertThat(registry.find("ferry.batch.requests").tags("batcher", "users").functionCounter())
                .as("removed when the batcher closes").isNull();
    }

    @Test
    void statementMetersAndTheSlowestFingerprints() throws Exception {
        String name = "statements";
        start(h2(name).maximumPoolSize(1).minimumIdle(0).slowStatementThreshold(Duration.ofNanos(1))
                .metricRegistry(registry));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id INT PRIMARY KEY)");
            s.executeUpdate("INSERT INTO t VALUES (1), (2)");
            s.executeQuery("SELECT id FROM t WHERE id = 2").close();
            assertThatThrownBy(() -> s.executeQuery("SELECT nope FROM t")).isInstanceOf(SQLException.class);
        }
        assertThat(timerCount("ferry.statements", name)).isEqualTo(4);
        assertThat(counter("ferry.statements.errors", Tags.of("pool", name))).isEqualTo(1);
        assertThat(counter("ferry.statements.slow", Tags.of("pool", name))).as("a 1 ns threshold: all").isEqualTo(4);
        // The binding's own thread refreshes which five are shown: first 1 s after the start, then every 10 s.
        await().atMost(Duration.ofSeconds(15)).until(() -> registry.find("ferry.statements.top.mean")
                .tag("pool", name).gauges().size() == 4);
        assertThat(registry.get("ferry.statements.top.mean").tag("pool", name).gauges())
                .extracting(g -> g.getId().getTag("fingerprint")).contains("SELECT id FROM t WHERE id = ?",
                        "INSERT INTO t VALUES (?, ...), ...", "SELECT nope FROM t")
                .allSatisfy(f -> assertThat(f).doesNotContain("2"));
        assertThat(registry.get("ferry.statements.top.mean").tags("pool", name, "fingerprint",
                "SELECT id FROM t WHERE id = ?").gauge().value()).isPositive();
    }

    @Test
    void aLeakIsCounted() throws Exception {
        String name = "leak";
        List<Runnable> scheduled = new java.util.concurrent.CopyOnWriteArrayList<>();
        start(h2(name).maximumPoolSize(1).minimumIdle(0).leakDetectionThreshold(Duration.ofSeconds(2))
                .scheduler((task, delay) -> {
                    scheduled.add(task);
                    return new java.util.concurrent.CompletableFuture<>();
                }).metricRegistry(registry));
        try (Connection c = ds.getConnection()) {
            scheduled.forEach(Runnable::run); // the leak check (and a housekeeping run), as if 2 s had passed
            assertThat(counter("ferry.connections.leaks", Tags.of("pool", name))).isEqualTo(1);
        }
    }

    @Test
    void twoBatchersOfOneNameDoNotShareMeters() throws Exception {
        MicrometerMetricsTrackerFactory factory = new MicrometerMetricsTrackerFactory(registry);
        dev.ferry.batch.BatchFunction<Integer, Integer> square = keys -> {
            java.util.Map<Integer, Integer> out = new java.util.HashMap<>();
            keys.forEach(k -> out.put(k, k * k));
            return out;
        };
        try (dev.ferry.batch.Batcher<Integer, Integer> first = dev.ferry.batch.Batcher.builder(square).name("dup")
                .metrics(factory).build()) {
            try (dev.ferry.batch.Batcher<Integer, Integer> second = dev.ferry.batch.Batcher.builder(square)
                    .name("dup").metrics(factory).build()) {
                assertThat(first.get(3)).isEqualTo(9);
                assertThat(second.get(4)).isEqualTo(16);
                assertThat(second.get(5)).isEqualTo(25);
                assertThat(registry.get("ferry.batch.requests").tag("batcher", "dup").functionCounter().count())
                        .as("the first batcher's figures only").isEqualTo(1);
            }
            assertThat(registry.find("ferry.batch.requests").tag("batcher", "dup").functionCounter())
                    .as("the second's close removed nothing of the first's").isNotNull();
        }
    }

    @Test
    void closingThePoolRemovesItsMeters() throws Exception {
        start(h2("closing").maximumPoolSize(1).metricRegistry(registry));
        assertThat(registry.find("ferry.connections.active").tag("pool", "closing").gauge()).isNotNull();
        ds.close();
        assertThat(registry.getMeters()).noneMatch(m -> "closing".equals(m.getId().getTag("pool")));
    }

    @Test
    void openTelemetryNamesAreOptional() throws Exception {
        start(h2("otel").maximumPoolSize(2).minimumIdle(0).metricsTrackerFactory(
                new MicrometerMetricsTrackerFactory(registry).withOpenTelemetryNames()));
        try (Connection c = ds.getConnection()) {
            assertThat(registry.get("db.client.connection.count").tags("db.client.connection.pool.name", "otel",
                    "state", "used").gauge().value()).isEqualTo(1);
        }
        assertThat(registry.get("db.client.connection.wait_time").tag("db.client.connection.pool.name", "otel")
                .timer().count()).isEqualTo(1);
        assertThat(registry.get("db.client.connection.max").gauge().value()).isEqualTo(2);
    }

    @Test
    void metricRegistryIsCheckedAtBuild() {
        assertThatThrownBy(() -> h2("x").metricRegistry("not a registry").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("metricRegistry: got a java.lang.String; allowed: a Micrometer");
        assertThatThrownBy(() -> h2("x").metricRegistry(registry)
                .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry)).build())
                .hasMessageContaining("metricRegistry and metricsTrackerFactory: got both");
        assertThat(h2("x").metricRegistry(registry).build().toString())
                .contains("metrics=dev.ferry.micrometer.MicrometerMetricsTrackerFactory");
    }

    @Test
    void prometheusScrapeHasTheDocumentedNames() throws Exception {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        start(h2("scrape").maximumPoolSize(2).minimumIdle(0).metricsTrackerFactory(
                new MicrometerMetricsTrackerFactory(prometheus).withPercentileHistograms()));
        ds.getConnection().close();
        String scrape = prometheus.scrape();
        assertThat(scrape).contains("ferry_connections_active{pool=\"scrape\"}",
                "ferry_connections_pending{pool=\"scrape\"}", "ferry_connections_acquire_seconds_bucket{",
                "ferry_connections_acquire_seconds_count{pool=\"scrape\"} 1", "ferry_connections_max{pool=\"scrape\"} 2");
        ds.close();
        PrometheusMeterRegistry plain = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        start(h2("plain").maximumPoolSize(2).minimumIdle(0).metricRegistry(plain));
        ds.getConnection().close();
        assertThat(plain.scrape()).as("no histograms unless asked, as in HikariCP")
                .contains("ferry_connections_acquire_seconds_count{pool=\"plain\"} 1")
                .doesNotContain("ferry_connections_acquire_seconds_bucket")
                .contains("ferry_connections_creation_seconds_bucket");
    }
}
