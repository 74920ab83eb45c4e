package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/** The pool against a real PostgreSQL server: everything here is the database's behaviour, not a stub's. */
class PostgresPoolTest {

    @BeforeAll
    static void schema() throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_pool_test (id bigint PRIMARY KEY, note text)");
            s.execute("CREATE SCHEMA IF NOT EXISTS ferry_other");
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String queryString(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void stateIsResetAndUncommittedWorkRolledBackOnReturn() throws Exception {
        String app = Postgres.uniqueApplicationName("reset");
        long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(1).build())) {
            int pid;
            try (Connection c = ds.getConnection()) {
                pid = backendPid(c);
                c.setAutoCommit(false);
                // PostgreSQL takes isolation and read-only only before the transaction's first statement.
                c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO ferry_pool_test VALUES (?, 'uncommitted')")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
                c.setSchema("ferry_other");
                c.setNetworkTimeout(Runnable::run, 12_345);
                // closed without commit, with every setting changed
            }
            try (Connection c = ds.getConnection()) {
                assertThat(backendPid(c)).isEqualTo(pid);
                // pgjdbc applies read-only per transaction (readOnlyMode=transaction), so look inside one.
                c.setAutoCommit(false);
                c.setReadOnly(true);
                assertThat(queryString(c, "SHOW transaction_read_only")).isEqualTo("on");
            }
            try (Connection c = ds.getConnection()) {
                assertThat(backendPid(c)).as("same physical connection").isEqualTo(pid);
                assertThat(c.getAutoCommit()).isTrue();
                assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_READ_COMMITTED);
                assertThat(c.isReadOnly()).isFalse();
                c.setAutoCommit(false);
                assertThat(queryString(c, "SHOW transaction_read_only")).isEqualTo("off");
                c.rollback();
                c.setAutoCommit(true);
                assertThat(c.getSchema()).isEqualTo("public");
                assertThat(c.getNetworkTimeout()).isZero();
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM ferry_pool_test WHERE id = ?")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).as("uncommitted insert rolled back").isZero();
                    }
                }
            }
        }
    }

    @Test
    void committedWorkStaysAndAutocommitFalsePoolsAvoidNeedlessRollbacks() throws Exception {
        String app = Postgres.uniqueApplicationName("commit");
        long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(1).autoCommit(false)
                .build())) {
            try (Connection c = ds.getConnection()) {
                assertThat(c.getAutoCommit()).isFalse();
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO ferry_pool_test VALUES (?, 'kept')")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
                c.commit();
            }
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT note FROM ferry_pool_test WHERE id = " + id)) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("kept");
                assertThat(rs.getStatement()).isSameAs(s);
                assertThat(s.getConnection()).isSameAs(c);
                c.rollback();
            }
        }
    }

    @Test
    void closedProxyIsUnusableAndDoubleCloseHarmless() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("closed"))
                .maximumPoolSize(1).build())) {
            Connection c = ds.getConnection();
            Statement leftOpen = c.createStatement();
            ResultSet rs = leftOpen.executeQuery("SELECT 1");
            c.close();
            c.close();
            assertThat(c.isClosed()).isTrue();
            assertThat(c.isValid(1)).isFalse();
            assertThat(leftOpen.isClosed()).as("statements are closed with the connection").isTrue();
            assertThat(rs.isClosed()).isTrue();
            assertThatThrownBy(c::createStatement).isInstanceOf(SQLException.class).hasMessage("Connection is closed");
            assertThatThrownBy(() -> c.setAutoCommit(false)).hasMessage("Connection is closed");
            assertThatThrownBy(c::commit).hasMessage("Connection is closed");
            // The physical connection went back to the pool and is healthy for the next borrower.
            try (Connection next = ds.getConnection()) {
                assertThat(next.isValid(1)).isTrue();
                assertThat(ds.unwrap(FerryPool.class).totalConnections()).isEqualTo(1);
            }
        }
    }

    @Test
    void timeoutMessageNamesPoolTimeoutAndState() throws Exception {
        String app = Postgres.uniqueApplicationName("timeout");
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(1)
                .connectionTimeout(Duration.ofMillis(250)).validationTimeout(Duration.ofMillis(250)).build());
             Connection held = ds.getConnection()) {
            assertThat(held.isValid(1)).isTrue();
            assertThatThrownBy(ds::getConnection)
                    .isInstanceOf(SQLTransientConnectionException.class)
                    .hasMessage(app + " - connection is not available, request timed out after 250ms "
                            + "(total=1, active=1, idle=0, waiting=0)");
        }
    }

    @Test
    void timeoutCarriesTheLastConnectionErrorWhenTheDatabaseIsUnreachable() {
        // Port 1 on loopback: nothing listens, so every connect is refused at once.
        FerryConfig config = FerryConfig.builder()
                .jdbcUrl("jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=hunter2")
                .poolName("unreachable").maximumPoolSize(2)
                .initializationFailTimeout(Duration.ofMillis(-1))
                .connectionTimeout(Duration.ofMillis(500)).validationTimeout(Duration.ofMillis(500))
                .build();
        try (FerryDataSource ds = new FerryDataSource(config)) {
            assertThatThrownBy(ds::getConnection)
                    .isInstanceOf(SQLTransientConnectionException.class)
                    .hasMessageStartingWith("unreachable - connection is not available, request timed out after 500ms")
                    .hasMessageContaining("last connection error: Connection to 127.0.0.1:1 refused")
                    .hasMessageNotContaining("hunter2")
                    .hasCauseInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));
        }
    }

    @Test
    void startFailsFastWhenTheDatabaseIsUnreachable() {
        FerryDataSource ds = new FerryDataSource();
        ds.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/test");
        ds.setUsername("postgres");
        ds.setPassword("hunter2");
        ds.setInitializationFailTimeout(200);
        ds.setPoolName("failfast");
        assertThatThrownBy(ds::start)
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("failfast - could not open a first connection to jdbc:postgresql://127.0.0.1:1/test "
                        + "within initializationFailTimeout (200ms)")
                .hasMessageNotContaining("hunter2");
        ds.close();
    }

    @Test
    void maxWaitingRejectsAtOnceBeyondTheBound() throws Exception {
        String app = Postgres.uniqueApplicationName("maxwait");
        ExecutorService executor = Executors.newCachedThreadPool();
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(1).maxWaiting(1)
                .connectionTimeout(Duration.ofSeconds(10)).build())) {
            FerryPool pool = ds.unwrap(FerryPool.class);
            Connection held = ds.getConnection();
            Future<Integer> waiter = executor.submit(() -> {
                try (Connection c = ds.getConnection()) {
                    return backendPid(c);
                }
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.waitingThreads() == 1);
            long start = System.nanoTime();
            assertThatThrownBy(ds::getConnection)
                    .isInstanceOf(SQLTransientConnectionException.class)
                    .hasMessage(app + " - connection is not available and 1 callers are already waiting "
                            + "(maxWaiting=1); rejected without waiting (total=1, active=1, idle=0, waiting=1)");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("rejected, not timed out")
                    .isLessThan(Duration.ofSeconds(5));
            held.close();
            assertThat(waiter.get(5, TimeUnit.SECONDS)).as("the queued waiter is served").isPositive();
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void neverMorePhysicalConnectionsThanMaximumUnderLoad() throws Exception {
        String app = Postgres.uniqueApplicationName("budget");
        int max = 4;
        ExecutorService executor = Executors.newFixedThreadPool(32);
        AtomicBoolean sampling = new AtomicBoolean(true);
        AtomicInteger peakBackends = new AtomicInteger();
        AtomicInteger samples = new AtomicInteger();
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(max).minimumIdle(1)
                .connectionTimeout(Duration.ofSeconds(20)).build());
             Connection admin = Postgres.admin()) {
            CompletableFuture<Void> sampler = CompletableFuture.runAsync(() -> {
                try (Connection own = Postgres.admin()) {
                    while (sampling.get()) {
                        peakBackends.accumulateAndGet(Postgres.backends(own, app), Math::max);
                        samples.incrementAndGet();
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            List<Future<?>> work = new ArrayList<>();
            AtomicLong queries = new AtomicLong();
            for (int t = 0; t < 32; t++) {
                work.add(executor.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                             ResultSet rs = s.executeQuery("SELECT pg_sleep(0.001)")) {
                            rs.next();
                            queries.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get(60, TimeUnit.SECONDS);
            }
            sampling.set(false);
            sampler.get(10, TimeUnit.SECONDS);
            assertThat(queries.get()).isEqualTo(32 * 40);
            assertThat(samples.get()).isPositive();
            assertThat(peakBackends.get()).as("backends seen in pg_stat_activity").isBetween(1, max);
            assertThat(Postgres.backends(admin, app)).isLessThanOrEqualTo(max);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void recoversAfterAllBackendsAreTerminatedDuringLoad() throws Exception {
        String app = Postgres.uniqueApplicationName("recover");
        int max = 5;
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(max)
                .connectionTimeout(Duration.ofSeconds(5)).build());
             Connection admin = Postgres.admin()) {
            FerryPool pool = ds.unwrap(FerryPool.class);
            ServerOutage.underLoad(ds, () -> assertThat(Postgres.terminate(admin, app)).as("backends terminated")
                    .isPositive());
            // Nothing leaked: every connection is back, the pool refilled, and the server agrees.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(pool.activeConnections()).isZero();
                assertThat(pool.totalConnections()).isEqualTo(max);
                assertThat(Postgres.backends(admin, app)).isEqualTo(max);
            });
        }
    }

    @Test
    void brokenConnectionIsEvictedNotReused() throws Exception {
        String app = Postgres.uniqueApplicationName("evict");
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(1).build());
             Connection admin = Postgres.admin()) {
            int firstPid;
            try (Connection c = ds.getConnection()) {
                firstPid = backendPid(c);
                Postgres.terminate(admin, app);
                assertThatThrownBy(() -> queryString(c, "SELECT 1")).isInstanceOf(SQLException.class);
            }
            try (Connection c = ds.getConnection()) {
                assertThat(backendPid(c)).as("a new backend").isNotEqualTo(firstPid);
            }
        }
    }

    @Test
    void queryTimeoutAppliesUnlessTheCallerSetsItsOwn() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("qt"))
                .maximumPoolSize(1).queryTimeout(Duration.ofSeconds(1)).build());
             Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement()) {
                assertThat(s.getQueryTimeout()).isEqualTo(1);
                assertThatThrownBy(() -> s.execute("SELECT pg_sleep(5)"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_sleep(1.5)")) {
                ps.setQueryTimeout(5);
                assertThat(ps.getQueryTimeout()).isEqualTo(5);
                assertThat(ps.execute()).isTrue();
            }
            assertThat(c.isValid(1)).as("a cancelled query does not break the connection").isTrue();
        }
    }

    @Test
    void settingsAppliedToEveryNewConnection() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("init"))
                .maximumPoolSize(1).transactionIsolation("TRANSACTION_REPEATABLE_READ").schema("ferry_other")
                .connectionInitSql("SET statement_timeout = '7s'").build());
             Connection c = ds.getConnection()) {
            assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_REPEATABLE_READ);
            assertThat(c.getSchema()).isEqualTo("ferry_other");
            assertThat(queryString(c, "SHOW statement_timeout")).isEqualTo("7s");
        }
    }

    @Test
    void beanConfigurationWithHikariNames() throws Exception {
        String app = Postgres.uniqueApplicationName("bean");
        FerryDataSource ds = new FerryDataSource();
        ds.setJdbcUrl(Postgres.url());
        ds.addDataSourceProperty("ApplicationName", app);
        ds.setMaximumPoolSize(3);
        ds.setMinimumIdle(1);
        ds.setConnectionTimeout(5_000);
        ds.setIdleTimeout(60_000);
        ds.setMaxLifetime(120_000);
        ds.setKeepaliveTime(30_000);
        ds.setPoolName(app);
        try (ds; Connection c = ds.getConnection()) {
            assertThat(queryString(c, "SELECT current_setting('application_name')")).isEqualTo(app);
            assertThat(ds.isRunning()).isTrue();
            assertThatThrownBy(() -> ds.setJdbcUrl("jdbc:postgresql://elsewhere/db"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("jdbcUrl cannot change once the pool is configured or started");
            ds.setMaximumPoolSize(5); // resizable at run time
            assertThat(ds.unwrap(FerryPool.class).maximumPoolSize()).isEqualTo(5);
            ds.setConnectionTimeout(7_000);
            assertThat(ds.getConnectionTimeout()).isEqualTo(7_000);
            assertThatThrownBy(() -> ds.setMinimumIdle(9)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("minimumIdle: got 9; allowed: 0 to maximumPoolSize (5)");
        }
    }

    @Test
    void unwrapsToPoolDriverAndVendorConnection() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("unwrap"))
                .maximumPoolSize(1).build());
             Connection c = ds.getConnection()) {
            assertThat(ds.unwrap(FerryPool.class).poolName()).startsWith("unwrap-");
            assertThat(ds.unwrap(Driver.class)).isInstanceOf(org.postgresql.Driver.class);
            assertThat(ds.isWrapperFor(FerryPool.class)).isTrue();
            assertThat(c.isWrapperFor(PGConnection.class)).isTrue();
            assertThat(c.unwrap(PGConnection.class).getBackendPID()).isEqualTo(backendPid(c));
            assertThat(c.getMetaData().getConnection()).isSameAs(c);
            assertThat(c.toString()).doesNotContain("password");
            assertThatThrownBy(() -> ds.unwrap(String.class)).isInstanceOf(SQLException.class);
        }
    }

    @Test
    void closeDrainsWaitsForBorrowersThenCloses() throws Exception {
        String app = Postgres.uniqueApplicationName("drain");
        FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(2)
                .shutdownTimeout(Duration.ofSeconds(10)).build());
        Connection borrowed = ds.getConnection();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(ds::close);
        await().atMost(Duration.ofSeconds(5)).until(ds::isClosed);
        assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class).hasMessageContaining("is closed");
        assertThat(closing).as("close waits for the borrowed connection").isNotDone();
        assertThat(queryString(borrowed, "SELECT 'still usable'")).isEqualTo("still usable");
        borrowed.close();
        closing.get(10, TimeUnit.SECONDS);
        try (Connection admin = Postgres.admin()) {
            await().atMost(Duration.ofSeconds(5)).until(() -> Postgres.backends(admin, app) == 0);
        }
    }
}
