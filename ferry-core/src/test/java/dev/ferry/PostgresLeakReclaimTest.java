package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Leak reclaim and the hold cap on real PostgreSQL, with the pool's clock and scheduler driven by hand: leaked
 * connections are taken back after the timeout while other callers keep working, the leakers get a clear error
 * on their next use, and none of their uncommitted writes commits; a statement running at the deadline is waited
 * for (leak reclaim) or aborted (hold cap).
 */
class PostgresLeakReclaimTest {

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);

    @BeforeEach
    void table() throws SQLException {
        try (Connection c = DriverManager.getConnection(Postgres.url()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_reclaim (who TEXT NOT NULL)");
            s.execute("TRUNCATE ferry_reclaim");
        }
    }

    private FerryConfig.Builder config(int size, int minimumIdle) {
        return FerryConfig.builder().jdbcUrl(Postgres.url()).poolName("reclaim").maximumPoolSize(size)
                .minimumIdle(minimumIdle).ticker(ticker).scheduler(scheduler)
                .connectionTimeout(Duration.ofSeconds(5)).leakReclaimTimeout(Duration.ofSeconds(2));
    }

    private static long rows() throws SQLException {
        try (Connection c = DriverManager.getConnection(Postgres.url()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_reclaim")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A leaker: borrows, writes without committing, and never closes. */
    private static Connection leak(FerryDataSource ds, String who) throws SQLException {
        Connection c = ds.getConnection();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO ferry_reclaim VALUES ('" + who + "')");
        }
        return c;
    }

    @ParameterizedTest(name = "minimumIdle {0}")
    @CsvSource({"0", "1", "4"})
    void threeLeaksUnderLoadAreReclaimedAndNoneOfTheirWritesCommits(int minimumIdle) throws Exception {
        RecordingListener listener = new RecordingListener();
        try (FerryDataSource ds = new FerryDataSource(config(4, minimumIdle).listener(listener).build())) {
            List<Connection> leaked = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                leaked.add(leak(ds, "leaker-" + i));
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger served = new AtomicInteger();
            ExecutorService load = Executors.newFixedThreadPool(3);
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int w = 0; w < 3; w++) { // three callers share the one connection left, then all four
                workers.add(CompletableFuture.runAsync(() -> {
                    while (!stop.get()) {
                        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                            s.execute("SELECT 1");
                            served.incrementAndGet();
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }, load));
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> served.get() >= 30); // the load runs on the one free connection
            assertThat(ds.unwrap(FerryPool.class).activeConnections()).isGreaterThanOrEqualTo(3);

            ticker.advance(Duration.ofSeconds(2));
            scheduler.runDue(); // the reclaim checks are due: no statement runs on the leaked connections
            assertThat(listener.of(PoolEvent.ConnectionReclaimed.class)).hasSize(3).allSatisfy(e -> {
                assertThat(e.why()).isEqualTo("leakReclaimTimeout=2000ms");
                assertThat(e.borrowerSite()).hasMessageContaining("borrowed here by thread");
            });
            assertThat(ds.unwrap(dev.ferry.pool.ConnectionPool.class).connectionsReclaimed()).isEqualTo(3);

            List<Connection> four = new ArrayList<>(); // the pool serves others: all four places are free again
            int before = served.get();
            stop.set(true);
            CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
            load.shutdown();
            for (int i = 0; i < 4; i++) {
                four.add(ds.getConnection());
            }
            assertThat(served.get()).isGreaterThanOrEqualTo(before);
            for (Connection c : four) {
                c.close();
            }

            for (Connection c : leaked) { // the leakers' next use: a clear error, and nothing commits
                assertThatThrownBy(() -> {
                    try (Statement s = c.createStatement()) {
                        s.executeUpdate("INSERT INTO ferry_reclaim VALUES ('after')");
                    }
                }).isInstanceOf(SQLException.class).hasMessageContaining("took this connection back")
                        .hasMessageContaining("leakReclaimTimeout=2000ms");
                assertThatThrownBy(c::commit).isInstanceOf(SQLException.class)
                        .hasMessageContaining("leakReclaimTimeout=2000ms")
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08003"))
                        .cause().hasMessageContaining("borrowed here by thread");
                c.close(); // a no-op: the pool already has it
            }
            assertThat(rows()).as("no leaked write committed").isZero();
            assertThat(ds.unwrap(FerryPool.class).activeConnections()).isZero();
        }
    }

    @Test
    void aRunningStatementIsWaitedForAndTheConnectionTakenBackWhenItEnds() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config(2, 0).build());
             Connection blocker = DriverManager.getConnection(Postgres.url());
             Statement lock = blocker.createStatement()) {
            lock.execute("SELECT pg_advisory_lock(4242)");
            Connection leaker = leak(ds, "busy");
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                try (Statement s = leaker.createStatement()) {
                    s.execute("SELECT pg_advisory_lock(4242)"); // blocks until the test lets go
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitBlocked();
            ticker.advance(Duration.ofSeconds(3));
            scheduler.runDue();
            assertThat(ds.unwrap(dev.ferry.pool.ConnectionPool.class).connectionsReclaimed())
                    .as("not while its statement runs").isZero();
            lock.execute("SELECT pg_advisory_unlock(4242)");
            waiting.get(30, TimeUnit.SECONDS); // the statement ended normally
            ticker.advance(Duration.ofMillis(250));
            scheduler.runDue();
            assertThat(ds.unwrap(dev.ferry.pool.ConnectionPool.class).connectionsReclaimed()).isEqualTo(1);
            assertThatThrownBy(leaker::commit).hasMessageContaining("took this connection back");
            assertThat(rows()).isZero();
        }
    }

    @Test
    void theHoldCapAbortsARunningStatementAndNothingCommits() throws Exception {
        RecordingListener listener = new RecordingListener();
        try (FerryDataSource ds = new FerryDataSource(config(1, 1).leakReclaimTimeout(Duration.ZERO)
                .maxHoldTime(Duration.ofSeconds(5)).listener(listener).build());
             Connection blocker = DriverManager.getConnection(Postgres.url());
             Statement lock = blocker.createStatement()) {
            lock.execute("SELECT pg_advisory_lock(4243)");
            Connection holder = leak(ds, "held");
            Statement early = holder.createStatement(); // held on to by the borrower across the abort
            CompletableFuture<Void> blocked = CompletableFuture.runAsync(() -> {
                try (Statement s = holder.createStatement()) {
                    s.execute("SELECT pg_advisory_lock(4243)");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitBlocked();
            ticker.advance(Duration.ofSeconds(5));
            scheduler.runDue();
            assertThatThrownBy(() -> blocked.get(30, TimeUnit.SECONDS)) // the statement failed: its socket was closed
                    .satisfies(e -> assertThat(e.getCause().getCause()).isInstanceOf(SQLException.class));
            assertThat(listener.of(PoolEvent.ConnectionReclaimed.class)).singleElement()
                    .satisfies(e -> assertThat(e.why()).isEqualTo("maxHoldTime=5000ms (a statement was aborted)"));
            assertThatThrownBy(() -> early.execute("COMMIT")) // the aborted statement's end did not reopen it
                    .isInstanceOf(SQLException.class).hasMessageContaining("took this connection back")
                    .hasMessageContaining("maxHoldTime=5000ms");
            lock.execute("SELECT pg_advisory_unlock(4243)");
            try (Connection next = ds.getConnection()) { // the pool of one serves the next caller
                assertThat(next.isValid(2)).isTrue();
            }
            assertThat(rows()).isZero();
        }
    }

    @ParameterizedTest(name = "pool of {0}, minimumIdle {1}")
    @CsvSource({"1, 0", "1, 1", "3, 0"})
    void aConnectionIdleInsideATransactionIsTakenBackAndOneWithoutATransactionIsNot(int size, int minimumIdle)
            throws Exception {
        RecordingListener listener = new RecordingListener();
        try (FerryDataSource ds = new FerryDataSource(config(size, minimumIdle).leakReclaimTimeout(Duration.ZERO)
                .idleInTransactionTimeout(Duration.ofSeconds(2)).listener(listener).build())) {
            dev.ferry.pool.ConnectionPool pool = ds.unwrap(dev.ferry.pool.ConnectionPool.class);
            try (Connection quiet = ds.getConnection(); Statement s = quiet.createStatement()) { // autocommit on
                s.execute("SELECT 1");
                ticker.advance(Duration.ofSeconds(5));
                scheduler.runDue();
                assertThat(pool.connectionsReclaimed()).as("idle, but in no transaction").isZero();
                s.execute("SELECT 1");
            }
            Connection busy = leak(ds, "busy"); // a transaction is open from its INSERT
            try (Statement s = busy.createStatement()) {
                ticker.advance(Duration.ofMillis(1500));
                scheduler.runDue();
                s.execute("SELECT 1"); // activity: the idle time starts again
                ticker.advance(Duration.ofMillis(1500));
                scheduler.runDue();
                assertThat(pool.connectionsReclaimed()).as("never idle for 2 s").isZero();
                ticker.advance(Duration.ofMillis(600));
                scheduler.runDue();
            }
            assertThat(pool.connectionsReclaimed()).isEqualTo(1);
            assertThat(listener.of(PoolEvent.ConnectionReclaimed.class)).singleElement()
                    .satisfies(e -> assertThat(e.why()).isEqualTo("idleInTransactionTimeout=2000ms"));
            assertThatThrownBy(busy::commit).hasMessageContaining("idleInTransactionTimeout=2000ms");
            assertThat(rows()).as("its transaction was rolled back").isZero();
            Connection committed = ds.getConnection(); // committing ends the transaction: idle after it is fine
            committed.setAutoCommit(false);
            try (Statement s = committed.createStatement()) {
                s.executeUpdate("INSERT INTO ferry_reclaim VALUES ('kept')");
            }
            committed.commit();
            ticker.advance(Duration.ofSeconds(5));
            scheduler.runDue();
            assertThat(pool.connectionsReclaimed()).isEqualTo(1);
            committed.close();
            assertThat(rows()).isEqualTo(1);
        }
    }

    @Test
    void aSavepointOpensATransactionAndAStatementRunningAcrossTheIdleWindowKeepsTheConnection() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config(2, 0).leakReclaimTimeout(Duration.ZERO)
                .idleInTransactionTimeout(Duration.ofSeconds(2)).build());
             Connection blocker = DriverManager.getConnection(Postgres.url());
             Statement lock = blocker.createStatement()) {
            dev.ferry.pool.ConnectionPool pool = ds.unwrap(dev.ferry.pool.ConnectionPool.class);
            Connection saved = ds.getConnection();
            saved.setAutoCommit(false);
            saved.setSavepoint(); // opens the transaction without a statement
            ticker.advance(Duration.ofSeconds(2));
            scheduler.runDue();
            assertThat(pool.connectionsReclaimed()).as("idle in the savepoint's transaction").isEqualTo(1);
            assertThatThrownBy(saved::rollback).hasMessageContaining("idleInTransactionTimeout=2000ms");

            lock.execute("SELECT pg_advisory_lock(4244)");
            Connection slow = leak(ds, "slow"); // in a transaction from its INSERT
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                try (Statement s = slow.createStatement()) {
                    s.execute("SELECT pg_advisory_lock(4244)"); // runs across the idle window
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitBlocked();
            ticker.advance(Duration.ofSeconds(3));
            scheduler.runDue();
            assertThat(pool.connectionsReclaimed()).as("a statement runs: not idle").isEqualTo(1);
            lock.execute("SELECT pg_advisory_unlock(4244)");
            waiting.get(30, TimeUnit.SECONDS);
            ticker.advance(Duration.ofMillis(250));
            scheduler.runDue();
            assertThat(pool.connectionsReclaimed()).as("it has just ended").isEqualTo(1);
            try (Statement s = slow.createStatement()) {
                s.execute("SELECT pg_advisory_unlock(4244)");
            }
            slow.commit();
            slow.close();
            assertThat(rows()).as("its own work committed").isEqualTo(1);
        }
    }

    @Test
    void aDriverThatCannotAbortIsRolledBackBeforeItIsClosed() throws Exception {
        dev.ferry.testkit.StubDatabase db = dev.ferry.testkit.StubDatabase.create();
        db.abortFails = true;
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(db.url())
                .driverClassName("dev.ferry.testkit.StubDriver").maximumPoolSize(1).minimumIdle(0)
                .ticker(ticker).scheduler(scheduler).leakReclaimTimeout(Duration.ofSeconds(2)).build())) {
            Connection leaked = ds.getConnection();
            leaked.setAutoCommit(false);
            try (Statement s = leaked.createStatement()) {
                s.executeUpdate("INSERT INTO t VALUES (1)");
            }
            dev.ferry.testkit.StubConnection physical = leaked.unwrap(dev.ferry.testkit.StubConnection.class);
            long rollbacksBefore = db.rollbacks.get();
            ticker.advance(Duration.ofSeconds(2));
            scheduler.runDue();
            assertThat(ds.unwrap(dev.ferry.pool.ConnectionPool.class).connectionsReclaimed()).isEqualTo(1);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(physical::isClosed);
            assertThat(db.rollbacks.get() - rollbacksBefore).as("rolled back before the close").isPositive();
            assertThat(db.committedOnClose.get()).as("nothing left for a commit on close").isZero();
            assertThatThrownBy(leaked::commit).hasMessageContaining("took this connection back");
        }
    }

    @Test
    void theCapsAreCheckedAtBuild() {
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl(Postgres.DEFAULT_URL)
                .leakReclaimTimeout(Duration.ofMillis(500)).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leakReclaimTimeout").hasMessageContaining("0 (off) or at least 1000ms");
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl(Postgres.DEFAULT_URL)
                .maxHoldTime(Duration.ofMillis(-1)).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxHoldTime");
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl(Postgres.DEFAULT_URL)
                .idleInTransactionTimeout(Duration.ofMillis(999)).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("idleInTransactionTimeout").hasMessageContaining("0 (off) or at least 1000ms");
        assertThat(FerryConfig.builder().jdbcUrl(Postgres.DEFAULT_URL).leakReclaimTimeout(Duration.ofMinutes(5))
                .idleInTransactionTimeout(Duration.ofSeconds(30)).build().toString())
                .contains("leakReclaimTimeout=300000ms").contains("idleInTransactionTimeout=30000ms");
    }

    /** Waits until a session of the test database waits on an advisory lock (the server's state, polled). */
    private static void awaitBlocked() {
        org.awaitility.Awaitility.await("a session blocked on the advisory lock").atMost(Duration.ofSeconds(30))
                .until(() -> {
                    try (Connection c = Postgres.admin(); Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                 + "AND NOT granted")) {
                        rs.next();
                        return rs.getInt(1) > 0;
                    }
                });
    }
}
