package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The pool's core behaviours on real PostgreSQL, under the configurations users pick rather than our defaults:
 * every test runs once per {@link Shape}.
 */
class PostgresPoolMatrixTest {

    /** Pool configurations users choose. */
    enum Shape {
        DEFAULTS(b -> b),
        MIN_IDLE_0_TIMEOUT_1000(b -> b.minimumIdle(0).connectionTimeout(Duration.ofMillis(1000))),
        MIN_IDLE_1(b -> b.minimumIdle(1).maximumPoolSize(4).connectionTimeout(Duration.ofMillis(2000))),
        POOL_OF_ONE(b -> b.maximumPoolSize(1)),
        AUTOCOMMIT_OFF(b -> b.autoCommit(false).minimumIdle(1).maximumPoolSize(4));

        final UnaryOperator<FerryConfig.Builder> apply;

        Shape(UnaryOperator<FerryConfig.Builder> apply) {
            this.apply = apply;
        }

        FerryDataSource start(String app) {
            return new FerryDataSource(apply.apply(Postgres.config(app)).build());
        }
    }

    @BeforeAll
    static void schema() throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_matrix (id bigint PRIMARY KEY, note text)");
        }
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void oneThreadBorrowsUpToTheMaximumInARow(Shape shape) throws Exception {
        try (FerryDataSource ds = shape.start(Postgres.uniqueApplicationName("row"))) {
            int max = ds.unwrap(FerryPool.class).maximumPoolSize();
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < Math.min(max, 3); i++) {
                    Connection c = ds.getConnection();
                    held.add(c);
                    assertThat(one(c, "SELECT 'ok'")).isEqualTo("ok");
                }
            } finally {
                for (Connection c : held) {
                    c.close();
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void uncommittedWorkIsRolledBackAndStateResetOnReturn(Shape shape) throws Exception {
        long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        try (FerryDataSource ds = shape.start(Postgres.uniqueApplicationName("reset"))) {
            boolean poolAutoCommit = ds.unwrap(FerryConfig.class).autoCommit();
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                c.setReadOnly(false);
                c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("INSERT INTO ferry_matrix VALUES (" + id + ", 'uncommitted')");
                }
            }
            try (Connection c = ds.getConnection()) {
                assertThat(c.getAutoCommit()).isEqualTo(poolAutoCommit);
                assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_READ_COMMITTED);
                assertThat(one(c, "SELECT count(*) FROM ferry_matrix WHERE id = " + id)).isEqualTo("0");
                if (!poolAutoCommit) {
                    c.rollback();
                }
            }
        }
    }

    /** With autocommit off, setting a connection up must not leave it "idle in transaction" (stale now()). */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void newConnectionsHaveNoOpenTransaction(Shape shape) throws Exception {
        String app = Postgres.uniqueApplicationName("fresh");
        try (FerryDataSource ds = shape.start(app); Connection admin = Postgres.admin()) {
            FerryPool pool = ds.unwrap(FerryPool.class);
            try (Connection c = ds.getConnection()) {
                assertThat(c.isValid(1)).isTrue();
            }
            int target = Math.max(1, ds.unwrap(FerryConfig.class).minimumIdle());
            await().atMost(Duration.ofSeconds(10)).until(() -> pool.idleConnections() >= target);
            try (var ps = admin.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE application_name = ? "
                    + "AND state LIKE 'idle in transaction%'")) {
                ps.setString(1, app);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("pooled backends idle in transaction").isZero();
                }
            }
            try (Connection c = ds.getConnection()) {
                // now() is the transaction's start: a transaction left open at setup would make it stale.
                double lagSeconds = Double.parseDouble(one(c,
                        "SELECT extract(epoch FROM clock_timestamp() - now())"));
                assertThat(lagSeconds).isLessThan(1.0);
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void neverMoreBackendsThanTheMaximumUnderLoad(Shape shape) throws Exception {
        String app = Postgres.uniqueApplicationName("budget");
        ExecutorService executor = Executors.newFixedThreadPool(16);
        try (FerryDataSource ds = shape.start(app); Connection admin = Postgres.admin()) {
            int max = ds.unwrap(FerryPool.class).maximumPoolSize();
            AtomicLong peak = new AtomicLong();
            AtomicBoolean running = new AtomicBoolean(true);
            List<Future<?>> load = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                load.add(executor.submit(() -> {
                    for (int i = 0; i < 40 && running.get(); i++) {
                        try (Connection c = ds.getConnection()) {
                            one(c, "SELECT pg_sleep(0.001)");
                            if (!c.getAutoCommit()) {
                                c.commit();
                            }
                        } catch (SQLTransientConnectionException timedOut) {
                            // a 1 s timeout on a pool of one may expire under 16 threads: allowed, never hung
                        }
                    }
                    return null;
                }));
            }
            while (load.stream().anyMatch(f -> !f.isDone())) {
                peak.accumulateAndGet(Postgres.backends(admin, app), Math::max);
                Thread.sleep(5);
            }
            running.set(false);
            for (Future<?> f : load) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertThat(peak.get()).isLessThanOrEqualTo(max);
            assertThat(ds.unwrap(FerryPool.class).activeConnections()).isZero();
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * Every backend terminated during load: borrowers after it succeed, nobody waits past connectionTimeout, and
     * nothing leaks.
     */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void recoversAfterEveryBackendIsTerminatedUnderLoad(Shape shape) throws Exception {
        String app = Postgres.uniqueApplicationName("terminate");
        try (FerryDataSource ds = shape.start(app); Connection admin = Postgres.admin()) {
            ServerOutage.underLoad(ds, () -> assertThat(Postgres.terminate(admin, app)).isPositive());
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                FerryPool pool = ds.unwrap(FerryPool.class);
                assertThat(pool.activeConnections()).isZero();
                assertThat(Postgres.backends(admin, app)).isLessThanOrEqualTo(pool.maximumPoolSize());
            });
        }
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void anExhaustedPoolTimesOutWithItsStateInTheMessage(Shape shape) throws Exception {
        try (FerryDataSource ds = shape.start(Postgres.uniqueApplicationName("exhaust"))) {
            FerryPool pool = ds.unwrap(FerryPool.class);
            ds.unwrap(dev.ferry.pool.ConnectionPool.class).setConnectionTimeout(Duration.ofMillis(300));
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < pool.maximumPoolSize(); i++) {
                    held.add(ds.getConnection());
                }
                assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class)
                        .hasMessageContaining("request timed out after 300ms (total=" + pool.maximumPoolSize()
                                + ", active=" + pool.maximumPoolSize() + ", idle=0, waiting=0)");
            } finally {
                for (Connection c : held) {
                    c.close();
                }
            }
        }
    }
}
