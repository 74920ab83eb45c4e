package dev.ferry.cli;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.Priority;
import dev.ferry.FerryPool;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One way for the application to get connections: Ferry, HikariCP, or a new connection per request ("direct",
 * the seeds' "before"). Every physical connection is counted through {@link CountingDriver}.
 */
abstract class Target implements AutoCloseable {

    /** Target names: Ferry (batching per --batching), Ferry always batching, HikariCP, a connection per request. */
    static final java.util.List<String> POOLS = java.util.List.of("ferry", "ferry-batched", "hikari", "direct");

    final String name;

    Target(String name) {
        this.name = name;
    }

    abstract Connection connection() throws SQLException;

    /** A connection at this priority; pools without priorities ignore it. */
    Connection connection(Priority priority) throws SQLException {
        return connection();
    }

    /** Called when the measured run starts (after the warm-up): Ferry's compressed sizing clock starts. */
    void measuredRunStarts() {
    }

    /** Connections opened from Ferry's emergency reserve; 0 for other targets. */
    long reserveUses() {
        return 0;
    }

    /** Physical connections open now (pool total, or direct connections in use). */
    abstract int size();

    abstract int active();

    abstract int waiting();

    /** The Ferry data source, for batching; null for other targets. */
    FerryDataSource ferry() {
        return null;
    }

    @Override
    public abstract void close();

    static Target create(String name, String url, Properties credentials, int poolSize, Duration timeout) {
        return create(name, url, credentials, poolSize, timeout, 0);
    }

    static Target create(String name, String url, Properties credentials, int poolSize, Duration timeout,
                         int reserve) {
        return create(name, url, credentials, new Scenario("pool", Scenario.Shape.CLOSED, Scenario.Op.READ, 0, 0,
                java.util.List.of(), Duration.ZERO, Duration.ZERO, poolSize, false, Scenario.ALL_NORMAL, reserve,
                "none", -1, null), timeout);
    }

    /**
     * The application_name prefix of this run's PostgreSQL sessions, {@code ferry-load-<pid>-}, followed by the pool's
     * name: {@code --chaos kill-backends} kills only these, never another application's or another run's.
     */
    static final String APPLICATION_PREFIX = "ferry-load-" + ProcessHandle.current().pid() + "-";

    /** A PostgreSQL URL tagged with the pool's application_name, unless the user set one; other URLs unchanged. */
    static String applicationName(String url, String pool) {
        if (!url.startsWith("jdbc:postgresql:") || setsApplicationName(url)) {
            return url;
        }
        String sep = url.endsWith("?") || url.endsWith("&") ? "" : url.contains("?") ? "&" : "?";
        return url + sep + "ApplicationName=" + APPLICATION_PREFIX + pool;
    }

    /** Whether the URL sets pgjdbc's ApplicationName itself. */
    static boolean setsApplicationName(String url) {
        return url.toLowerCase(Locale.ROOT).matches(".*[?&]applicationname=.*");
    }

    /** A target with the scenario's pool size, reserve, minimumIdle and (Ferry only) sizing policy. */
    static Target create(String name, String url, Properties credentials, Scenario scenario, Duration timeout) {
        int poolSize = scenario.poolSize();
        String key = name.toLowerCase(Locale.ROOT);
        String counted = CountingDriver.wrap(applicationName(url, key), key);
        switch (key) {
            case "ferry":
            case "ferry-batched": {
                FerryConfig.Builder b = FerryConfig.builder().jdbcUrl(counted).poolName(key)
                        .maximumPoolSize(poolSize).connectionTimeout(timeout).reserve(scenario.reserve());
                if (scenario.minimumIdle() >= 0) {
                    b.minimumIdle(scenario.minimumIdle());
                }
                ScenarioSizing.CompressedClock clock = ScenarioSizing.apply(b, scenario);
                if (credentials.getProperty("user") != null) {
                    b.username(credentials.getProperty("user"));
                }
                if (credentials.getProperty("password") != null) {
                    b.password(credentials.getProperty("password"));
                }
                if (MetricsEndpoint.registry() != null) {
                    // Histograms and SQL statistics: the dashboard's percentile and statement panels need them.
                    b.metricsTrackerFactory(new dev.ferry.micrometer.MicrometerMetricsTrackerFactory(
                            MetricsEndpoint.registry()).withPercentileHistograms()).sqlStatistics(true);
                }
                FerryDataSource ds = new FerryDataSource(b.build());
                FerryPool[] pool = new FerryPool[1];
                return new Target(key) {
                    @Override
                    Connection connection() throws SQLException {
                        return ds.getConnection();
                    }

                    @Override
                    Connection connection(Priority priority) throws SQLException {
                        return ds.getConnection(priority);
                    }

                    @Override
                    long reserveUses() {
                        return pool().reserveUses();
                    }

                    @Override
                    void measuredRunStarts() {
                        if (clock != null) {
                            clock.start();
                        }
                    }

                    private FerryPool pool() {
                        if (pool[0] == null) {
                            try {
                                pool[0] = ds.unwrap(FerryPool.class);
                            } catch (SQLException e) {
                                throw new IllegalStateException(e);
                            }
                        }
                        return pool[0];
                    }

                    @Override
                    int size() {
                        return pool().totalConnections();
                    }

                    @Override
                    int active() {
                        return pool().activeConnections();
                    }

                    @Override
                    int waiting() {
                        return pool().waitingThreads();
                    }

                    @Override
                    FerryDataSource ferry() {
                        return ds;
                    }

                    @Override
                    public void close() {
                        ds.close();
                    }
                };
            }
            case "hikari": {
                HikariConfig c = new HikariConfig();
                c.setJdbcUrl(counted);
                c.setPoolName("hikari");
                c.setMaximumPoolSize(poolSize);
                if (scenario.minimumIdle() >= 0) {
                    c.setMinimumIdle(scenario.minimumIdle());
                }
                c.setConnectionTimeout(Math.max(250, timeout.toMillis()));
                c.setDataSourceProperties(credentials);
                if (MetricsEndpoint.registry() != null) {
                    c.setMetricRegistry(MetricsEndpoint.registry()); // hikaricp_connections_*, beside ferry's
                }
                HikariDataSource ds = new HikariDataSource(c);
                HikariPoolMXBean mx = ds.getHikariPoolMXBean();
                return new Target("hikari") {
                    @Override
                    Connection connection() throws SQLException {
                        return ds.getConnection();
                    }

                    @Override
                    int size() {
                        return mx.getTotalConnections();
                    }

                    @Override
                    int active() {
                        return mx.getActiveConnections();
                    }

                    @Override
                    int waiting() {
                        return mx.getThreadsAwaitingConnection();
                    }

                    @Override
                    public void close() {
                        ds.close();
                    }
                };
            }
            case "direct": {
                AtomicInteger open = new AtomicInteger();
                return new Target("direct") {
                    @Override
                    Connection connection() throws SQLException {
                        Connection c = DriverManager.getConnection(counted, credentials);
                        open.incrementAndGet();
                        return ClosingCounter.wrap(c, open);
                    }

                    @Override
                    int size() {
                        return open.get();
                    }

                    @Override
                    int active() {
                        return open.get();
                    }

                    @Override
                    int waiting() {
                        return 0;
                    }

                    @Override
                    public void close() {
                    }
                };
            }
            default:
                throw new IllegalArgumentException("--pools: unknown pool '" + name + "'; allowed: "
                        + String.join(", ", POOLS));
        }
    }
}
