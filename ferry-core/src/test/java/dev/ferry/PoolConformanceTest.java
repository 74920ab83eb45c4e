package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.pool.ConnectionPool;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pool findings of issue 7, each as the configuration a user picks (minimumIdle 0 and 1, short timeouts, a
 * pool of 1, autocommit off) on the stub driver, whose faults a real server cannot produce on demand: hangs in
 * connect, close and validation, weak drivers, a driver that commits on close.
 */
class PoolConformanceTest {

    private final StubDatabase db = StubDatabase.create();
    private final List<FerryDataSource> opened = new ArrayList<>();

    private FerryConfig.Builder config() {
        return FerryConfig.builder().jdbcUrl(db.url()).driverClassName("dev.ferry.testkit.StubDriver")
                .poolName("conformance");
    }

    private FerryDataSource start(FerryConfig.Builder builder) {
        FerryDataSource ds = new FerryDataSource(builder.build());
        opened.add(ds);
        return ds;
    }

    @AfterEach
    void closeAll() {
        for (CountDownLatch gate : new CountDownLatch[] {db.connectGate, db.closeGate, db.validationGate}) {
            if (gate != null) {
                gate.countDown();
            }
        }
        opened.forEach(FerryDataSource::close);
    }

    // ---------------------------------------------------------------- demand

    /** Spring's REQUIRES_NEW: one thread holds connections while it borrows more. */
    @ParameterizedTest(name = "minimumIdle {0}")
    @ValueSource(ints = {0, 1})
    void oneThreadBorrowsUpToTheMaximumInARow(int minimumIdle) throws Exception {
        FerryDataSource ds = start(config().maximumPoolSize(3).minimumIdle(minimumIdle)
                .connectionTimeout(Duration.ofMillis(2000)));
        try (Connection a = ds.getConnection(); Connection b = ds.getConnection(); Connection c = ds.getConnection()) {
            assertThat(List.of(a, b, c)).doesNotHaveDuplicates();
            assertThat(ds.unwrap(FerryPool.class).activeConnections()).isEqualTo(3);
        }
    }

    @Test
    void aCallerWithItsOwnDeadlineWaitsNoLongerThanItEvenWithALongConnectionTimeout() throws Exception {
        FerryDataSource ds = start(config().maximumPoolSize(1).connectionTimeout(Duration.ofSeconds(60)));
        FerryPool pool = ds.unwrap(FerryPool.class);
        try (Connection held = ds.getConnection()) {
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
                    assertThatThrownBy(() -> pool.getConnection(Duration.ofMillis(50)))
                            .isInstanceOf(SQLTransientConnectionException.class));
            assertThat(held.isClosed()).isFalse();
        }
        try (Connection c = pool.getConnection(Duration.ofMillis(50))) {
            assertThat(c.isValid(1)).as("a free connection is lent at once").isTrue();
        }
    }

    @Test
    void lazyPoolOpensItsFirstConnectionOnDemand() throws Exception {
        FerryDataSource ds = start(config().minimumIdle(0).initializationFailTimeout(Duration.ofMillis(-1))
                .connectionTimeout(Duration.ofMillis(1000)));
        assertThat(ds.unwrap(FerryPool.class).totalConnections()).isZero();
        try (Connection c = ds.getConnection()) {
            assertThat(c.isValid(1)).isTrue();
        }
    }

    @Test
    void borrowsAfterThePoolShrankToZero() throws Exception {
        FakeTicker ticker = new FakeTicker();
        ManualScheduler scheduler = new ManualScheduler(ticker);
        FerryDataSource ds = start(config().minimumIdle(0).maximumPoolSize(2).idleTimeout(Duration.ofMinutes(1))
                .ticker(ticker).scheduler(scheduler).connectionTimeout(Duration.ofMillis(1000)));
        ConnectionPool pool = ds.unwrap(ConnectionPool.class);
        ds.getConnection().close();
        scheduler.advance(Duration.ofMinutes(2)); // housekeeping retires the idle connection
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.openConnections() == 0);
        assertThat(pool.totalConnections()).isZero();
        try (Connection c = ds.getConnection(); Connection d = ds.getConnection()) {
            assertThat(c).isNotSameAs(d);
        }
    }

    /**
     * The connector has backed off to about a second; the database is back; a caller with a 250 ms timeout must
     * not sleep out the back-off.
     */
    @Test
    void aNewWaiterCutsTheCreationBackOffShort() throws Exception {
        db.down = true;
        FerryDataSource ds = start(config().minimumIdle(1).maximumPoolSize(2)
                .initializationFailTimeout(Duration.ofMillis(-1)).connectionTimeout(Duration.ofMillis(250)));
        await().atMost(Duration.ofSeconds(10)).until(() -> db.connectAttempts.get() >= 8); // back-off ≥ 640 ms
        db.down = false;
        try (Connection c = ds.getConnection()) {
            assertThat(c.isValid(1)).isTrue();
        }
    }

    @Test
    void anErrorInConnectDoesNotStopRefilling() throws Exception {
        db.connectError = new AbstractMethodError("a driver built against another JDBC version");
        FerryDataSource ds = start(config().minimumIdle(0).maximumPoolSize(1)
                .initializationFailTimeout(Duration.ofMillis(-1)).connectionTimeout(Duration.ofMillis(2000)));
        try (Connection c = ds.getConnection()) {
            assertThat(c.isValid(1)).isTrue();
        }
    }

    // ---------------------------------------------------------------- time limits

    @Test
    void aHungCloseDoesNotBlockRefill() throws Exception {
        FerryDataSource ds = start(config().maximumPoolSize(1).validationTimeout(Duration.ofMillis(300))
                .connectionTimeout(Duration.ofMillis(3000)));
        db.closeGate = new CountDownLatch(1); // every close hangs, as on a black-holed socket
        try (Connection c = ds.getConnection()) {
            ds.unwrap(FerryPool.class).softEvictConnections();
        }
        try (Connection c = ds.getConnection()) {
            assertThat(c.isValid(1)).isTrue(); // a new connection, though the old one's close never finished
        }
        assertThat(db.open.get()).isEqualTo(2);
    }

    @Test
    void deadIdleConnectionsCannotHoldABorrowerPastConnectionTimeout() throws Exception {
        FakeTicker ticker = new FakeTicker();
        FerryDataSource ds = start(config().maximumPoolSize(4).ticker(ticker).scheduler(new ManualScheduler(ticker))
                .connectionTimeout(Duration.ofMillis(2000)).validationTimeout(Duration.ofSeconds(5)));
        ConnectionPool pool = ds.unwrap(ConnectionPool.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 4);
        ticker.advance(Duration.ofSeconds(1)); // idle past the 500 ms bypass: each needs validation
        db.validationGate = new CountDownLatch(1); // and each validation hangs
        long start = System.nanoTime();
        assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class)
                .hasMessageContaining("request timed out after 2000ms");
        long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // Four hung validations of 5 s each would be 20 s; one on the fast path and a fresh deadline after it, 4 s.
        // The borrower's single deadline bounds all of them.
        assertThat(waitedMs).isLessThan(3_500);
    }

    /** A connectionTimeout below the 50 ms validation floor still lends connections that need validating. */
    @Test
    void aVeryShortConnectionTimeoutStillValidatesAndLends() throws Exception {
        FakeTicker ticker = new FakeTicker();
        FerryDataSource ds = start(config().maximumPoolSize(2).ticker(ticker).scheduler(new ManualScheduler(ticker))
                .connectionTimeout(Duration.ofMillis(20)));
        ConnectionPool pool = ds.unwrap(ConnectionPool.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 2);
        for (int i = 0; i < 5; i++) {
            ticker.advance(Duration.ofSeconds(1)); // idle past the bypass: each borrow validates
            try (Connection c = ds.getConnection()) {
                assertThat(c.isValid(1)).isTrue();
            }
        }
        assertThat(db.opened.get()).isEqualTo(2);
    }

    // ---------------------------------------------------------------- weak drivers

    @Test
    void aDriverWithoutSchemaOrNetworkTimeoutSupportStillConnects() throws Exception {
        db.noSchemaSupport = true;
        FerryDataSource ds = start(config().maximumPoolSize(2));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            c.setAutoCommit(false);
        }
        try (Connection c = ds.getConnection()) {
            assertThat(c.getAutoCommit()).isTrue();
        }
    }

    @Test
    void aJdbc3DriverStillConnects() throws Exception {
        db.jdbc3Driver = true;
        FerryDataSource ds = start(config().maximumPoolSize(2).minimumIdle(0));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
        assertThat(ds.unwrap(FerryPool.class).totalConnections()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- return safety

    /** Oracle's driver commits on close: a connection retired while lent must be rolled back first. */
    @Test
    void uncommittedWorkIsRolledBackBeforeAnEvictedConnectionCloses() throws Exception {
        FerryDataSource ds = start(config().maximumPoolSize(1).autoCommit(false));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE t SET x = 1");
            ds.unwrap(FerryPool.class).softEvictConnections(); // as lifetime reached while lent would, too
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> db.closes.get() == 1);
        assertThat(db.committedOnClose.get()).isZero();
        assertThat(db.rollbacks.get()).isEqualTo(1);
    }

    @Test
    void aStatementThatFailsToCloseStillGetsTheConnectionResetOrRetired() throws Exception {
        FerryDataSource ds = start(config().maximumPoolSize(1).connectionTimeout(Duration.ofMillis(2000)));
        db.statementCloseFails = true;
        Connection c = ds.getConnection();
        c.setAutoCommit(false);
        c.createStatement().executeUpdate("UPDATE t SET x = 1");
        c.close();
        db.statementCloseFails = false;
        try (Connection next = ds.getConnection()) {
            assertThat(next.getAutoCommit()).isTrue();
        }
        assertThat(db.committedOnClose.get()).isZero();
        assertThat(db.rollbacks.get()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- lower findings

    /** HikariCP's ConcurrentCloseConnectionTest: one connection's statements closed from many threads at once. */
    @Test
    void statementsClosedConcurrentlyAreAllForgotten() throws Exception {
        FerryDataSource ds = start(config().maximumPoolSize(1));
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 20; round++) {
                try (Connection c = ds.getConnection()) {
                    List<Statement> statements = new ArrayList<>();
                    for (int i = 0; i < 200; i++) {
                        statements.add(c.prepareStatement("SELECT 1"));
                    }
                    List<Future<?>> closes = new ArrayList<>();
                    for (Statement s : statements) {
                        closes.add(threads.submit(() -> {
                            s.close();
                            return null;
                        }));
                    }
                    for (Future<?> f : closes) {
                        f.get(10, TimeUnit.SECONDS);
                    }
                    for (Statement s : statements) {
                        assertThat(s.isClosed()).isTrue();
                    }
                }
            }
            try (Connection c = ds.getConnection()) {
                assertThat(c.isValid(1)).isTrue(); // not evicted: no close failed
            }
            assertThat(db.opened.get()).isEqualTo(1);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void closingWhileFillingLeaksNoConnection() throws Exception {
        for (int i = 0; i < 100; i++) {
            FerryDataSource ds = new FerryDataSource(config().minimumIdle(5).maximumPoolSize(5)
                    .initializationFailTimeout(Duration.ofMillis(-1)).build());
            ds.close();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> db.open.get() == 0);
        assertThat(db.open.get()).isZero();
    }

    @Test
    void returnersOnAShrunkPoolRetireOnlyTheExcess() throws Exception {
        int n = 8;
        FerryDataSource ds = start(config().maximumPoolSize(n).minimumIdle(0));
        ConnectionPool pool = ds.unwrap(ConnectionPool.class);
        ExecutorService threads = Executors.newFixedThreadPool(n);
        try {
            for (int round = 0; round < 30; round++) {
                pool.setMaximumPoolSize(n);
                List<Connection> lent = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    lent.add(ds.getConnection());
                }
                pool.setMaximumPoolSize(n / 2);
                CyclicBarrier together = new CyclicBarrier(n);
                List<Future<?>> returns = new ArrayList<>();
                for (Connection c : lent) {
                    returns.add(threads.submit(() -> {
                        together.await();
                        c.close();
                        return null;
                    }));
                }
                for (Future<?> f : returns) {
                    f.get(10, TimeUnit.SECONDS);
                }
                assertThat(pool.totalConnections()).as("round " + round).isEqualTo(n / 2);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void anInterruptedCloseReturnsPromptlyAndKeepsTheInterrupt() throws Exception {
        FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(1).shutdownTimeout(Duration.ofSeconds(20))
                .build());
        Connection lent = ds.getConnection();
        long start = System.nanoTime();
        Thread.currentThread().interrupt();
        try {
            ds.close();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(15);
        assertThat(lent.isClosed()).isTrue(); // its physical connection was aborted after the interrupt
        lent.close();
    }

    @Test
    void resizingConcurrentlyNeverLeavesMinimumIdleAboveMaximum() throws Exception {
        FerryDataSource ds = start(config().maximumPoolSize(10).minimumIdle(0)
                .initializationFailTimeout(Duration.ofMillis(-1)));
        FerryPool pool = ds.unwrap(FerryPool.class);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?> max = threads.submit(() -> {
                for (int i = 0; i < 20_000; i++) {
                    try {
                        pool.setMaximumPoolSize(1 + i % 10);
                    } catch (IllegalArgumentException expected) {
                        // below the current minimumIdle
                    }
                }
            });
            Future<?> min = threads.submit(() -> {
                for (int i = 0; i < 20_000; i++) {
                    try {
                        pool.setMinimumIdle(i % 10);
                    } catch (IllegalArgumentException expected) {
                        // above the current maximumPoolSize
                    }
                    assertThat(pool.minimumIdle()).isLessThanOrEqualTo(pool.maximumPoolSize());
                }
            });
            max.get(30, TimeUnit.SECONDS);
            min.get(30, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- HikariCP parity on the stub

    @Test
    void suspendedPoolMakesBorrowersWaitUntilResumedOrTimedOut() throws Exception {
        FerryDataSource ds = start(config().maximumPoolSize(2).allowPoolSuspension(true)
                .connectionTimeout(Duration.ofMillis(300)));
        FerryPool pool = ds.unwrap(FerryPool.class);
        Connection held = ds.getConnection();
        pool.suspend();
        assertThat(pool.isSuspended()).isTrue();
        assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class)
                .hasMessageContaining("pool is suspended");
        held.createStatement().execute("SELECT 1"); // lent connections keep working
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            ds.unwrap(ConnectionPool.class).setConnectionTimeout(Duration.ofSeconds(10));
            Future<Connection> waiting = thread.submit(() -> ds.getConnection());
            await().atMost(Duration.ofSeconds(5)).pollDelay(Duration.ofMillis(50)).until(() -> !waiting.isDone());
            pool.resume();
            waiting.get(5, TimeUnit.SECONDS).close();
        } finally {
            thread.shutdownNow();
            held.close();
        }
    }

    @Test
    void suspensionMustBeAllowed() throws Exception {
        FerryPool pool = start(config()).unwrap(FerryPool.class);
        assertThatThrownBy(pool::suspend).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("allowPoolSuspension=true");
    }

    @Test
    void threadFactoryMakesThePoolsThreads() throws Exception {
        List<String> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        FerryDataSource ds = start(config().minimumIdle(2).maximumPoolSize(2).threadFactory(r -> {
            Thread t = new Thread(r, "app-pool-thread");
            t.setDaemon(true);
            made.add(t.getName());
            return t;
        }));
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.unwrap(FerryPool.class).idleConnections() == 2);
        assertThat(made).isNotEmpty();
    }

    @Test
    void scheduledExecutorRunsHousekeepingAndIsNotShutDown() throws Exception {
        java.util.concurrent.ScheduledThreadPoolExecutor executor = new java.util.concurrent.ScheduledThreadPoolExecutor(1);
        try {
            FerryDataSource ds = start(config().scheduledExecutor(executor)
                    .housekeepingPeriod(Duration.ofMillis(20)).maximumPoolSize(1));
            await().atMost(Duration.ofSeconds(5)).until(() -> executor.getCompletedTaskCount() >= 3);
            ds.close();
            assertThat(executor.isShutdown()).isFalse();
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void credentialRotationAppliesToNewConnections() throws Exception {
        FerryDataSource ds = new FerryDataSource();
        opened.add(ds);
        ds.setJdbcUrl(db.url());
        ds.setDriverClassName("dev.ferry.testkit.StubDriver");
        ds.setUsername("app");
        ds.setPassword("old-secret");
        ds.setMaximumPoolSize(1);
        Connection first = ds.getConnection();
        assertThat(db.lastPassword).isEqualTo("old-secret");
        ds.setPassword("new-secret"); // allowed at run time, as in HikariCP
        ds.evictConnection(first);
        first.close();
        try (Connection c = ds.getConnection()) {
            assertThat(db.lastUser).isEqualTo("app");
            assertThat(db.lastPassword).isEqualTo("new-secret");
        }
        assertThatThrownBy(() -> ds.setJdbcUrl("jdbc:stub:other")).isInstanceOf(IllegalStateException.class);
        assertThat(ds.toString()).doesNotContain("secret");
        assertThat(ds.unwrap(FerryConfig.class).toString()).doesNotContain("old-secret", "new-secret");
    }
}
