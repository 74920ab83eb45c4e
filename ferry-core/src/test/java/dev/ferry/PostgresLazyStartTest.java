package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A data source started by its first caller runs that start's user code (here an interceptor's onCreate, held on
 * a latch) holding no lock of its own: other callers are not blocked behind it except where they need its outcome,
 * they get the pool it starts, a close during the start closes what it built, and user code that calls back into
 * the data source during the start fails instead of waiting for itself.
 */
class PostgresLazyStartTest {

    private final String app = Postgres.uniqueApplicationName("lazystart");
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final ExecutorService threads = Executors.newCachedThreadPool();

    private final java.util.concurrent.atomic.AtomicInteger creates = new java.util.concurrent.atomic.AtomicInteger();

    /** Holds the first onCreate until released; counts them all. */
    private final ConnectionInterceptor slowFirstCreate = new ConnectionInterceptor() {
        @Override
        public void onCreate(Connection connection) throws SQLException {
            creates.incrementAndGet();
            if (entered.getCount() > 0) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    };

    @AfterEach
    void stop() {
        release.countDown();
        threads.shutdownNow();
    }

    private FerryDataSource lazy(ConnectionInterceptor interceptor) {
        return FerryDataSource.startingOnFirstUse(Postgres.config(app).maximumPoolSize(2).minimumIdle(1)
                .connectionTimeout(Duration.ofSeconds(5)).interceptor(interceptor).build());
    }

    /** A thread that runs {@code body}, so the test can see it wait. */
    private static Thread started(String name, java.util.concurrent.Callable<?> body,
                                  AtomicReference<Object> outcome) {
        Thread t = new Thread(() -> {
            try {
                outcome.set(body.call());
            } catch (Throwable e) {
                outcome.set(e);
            }
        }, name);
        t.start();
        return t;
    }

    private static void awaitWaiting(Thread t) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
    }

    @Test
    void otherCallersAreNotBlockedByTheStartsUserCodeAndGetThePoolItStarts() throws Exception {
        try (FerryDataSource ds = lazy(slowFirstCreate)) {
            AtomicReference<Object> firstOutcome = new AtomicReference<>();
            Thread first = started("first", () -> {
                try (Connection c = ds.getConnection()) {
                    return c.isValid(1);
                }
            }, firstOutcome);
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            // These take the data source's lock: they return while the start's onCreate is still held.
            assertThat(threads.submit(ds::metricsFactory).get(5, TimeUnit.SECONDS)).isNull();
            assertThat(threads.submit(() -> {
                try {
                    ds.setIdleTimeout(1_000);
                    return "changed";
                } catch (IllegalStateException e) {
                    return e.getMessage();
                }
            }).get(5, TimeUnit.SECONDS)).contains("cannot change once the pool is configured or started");
            AtomicReference<Object> secondOutcome = new AtomicReference<>();
            Thread second = started("second", () -> {
                try (Connection c = ds.getConnection()) {
                    return c.isValid(1);
                }
            }, secondOutcome);
            AtomicReference<Object> resizeOutcome = new AtomicReference<>();
            Thread resize = started("resize", () -> {
                ds.setMaximumPoolSize(3); // waits for the start, then applies to the pool it started
                return "resized";
            }, resizeOutcome);
            awaitWaiting(second);
            awaitWaiting(resize);
            assertThat(ds.isRunning()).as("still starting").isFalse();
            release.countDown();
            for (Thread t : new Thread[] {first, second, resize}) {
                t.join(10_000);
            }
            assertThat(firstOutcome.get()).isEqualTo(true);
            assertThat(secondOutcome.get()).isEqualTo(true);
            assertThat(resizeOutcome.get()).isEqualTo("resized");
            dev.ferry.pool.ConnectionPool pool = ds.unwrap(dev.ferry.pool.ConnectionPool.class);
            assertThat(pool.maximumPoolSize()).isEqualTo(3);
            // One pool was started, not one per caller: every connection the interceptor saw is this pool's.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> creates.get() == pool.connectionsCreated());
        }
    }

    @Test
    void aCloseDuringTheStartClosesWhatItBuiltAndTheStarterIsTold() throws Exception {
        FerryDataSource ds = lazy(slowFirstCreate);
        Future<Connection> first = threads.submit(() -> ds.getConnection());
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        Future<?> closing = threads.submit(ds::close);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(ds::isClosed);
        assertThat(closing.isDone()).as("close waits for the start under way (held in onCreate)").isFalse();
        release.countDown();
        closing.get(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(SQLException.class)
                .hasMessageContaining("closed while it started");
        try (Connection admin = Postgres.admin()) {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> Postgres.backends(admin, app) == 0);
        }
        ds.close(); // a second close returns (it waits for the first, which is over)
        assertThat(ds.isClosed()).isTrue();
    }

    @Test
    void aCloseDuringAStartThatHangsReturnsAfterShutdownTimeoutAndTheStartCleansUpWhenItReturns() throws Exception {
        FerryDataSource ds = FerryDataSource.startingOnFirstUse(Postgres.config(app).maximumPoolSize(1)
                .shutdownTimeout(Duration.ofMillis(300)).interceptor(slowFirstCreate).build());
        Future<Connection> first = threads.submit(() -> ds.getConnection());
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        long before = System.nanoTime();
        threads.submit(ds::close).get(10, TimeUnit.SECONDS); // returns although the start is still held
        assertThat(Duration.ofNanos(System.nanoTime() - before)).as("it waited for the start first")
                .isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(first.isDone()).as("the start is still held in onCreate").isFalse();
        release.countDown();
        assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS)).hasMessageContaining("closed while it started");
        try (Connection admin = Postgres.admin()) {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> Postgres.backends(admin, app) == 0);
        }
    }

    @Test
    void aBeanConfiguredDataSourceWhoseStartFailsStaysEditableAndStartsOnceFixed() throws Exception {
        try (FerryDataSource ds = new FerryDataSource()) {
            ds.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/test?connectTimeout=1");
            ds.setMaximumPoolSize(1);
            ds.setConnectionTimeout(1_000);
            // Two first callers of a start that fails: each is told (the second tries itself), none hangs.
            Future<?> one = threads.submit(() -> ds.getConnection());
            Future<?> two = threads.submit(() -> ds.getConnection());
            for (Future<?> caller : java.util.List.of(one, two)) {
                assertThatThrownBy(() -> caller.get(20, TimeUnit.SECONDS)).hasCauseInstanceOf(SQLException.class);
            }
            ds.setMaximumPoolSize(2); // a run-time setter after a failed start: as if none had run
            ds.setJdbcUrl(Postgres.url()); // not started: still editable
            ds.addDataSourceProperty("ApplicationName", app);
            try (Connection c = ds.getConnection()) {
                assertThat(c.isValid(1)).isTrue();
            }
            assertThatThrownBy(() -> ds.setJdbcUrl(Postgres.url())).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void userCodeTheStartRunsThatCallsBackFailsInsteadOfWaitingForItself() throws Exception {
        AtomicReference<FerryDataSource> self = new AtomicReference<>();
        AtomicReference<Throwable> callBack = new AtomicReference<>();
        AtomicReference<Throwable> resize = new AtomicReference<>();
        ConnectionInterceptor reentrant = new ConnectionInterceptor() {
            @Override
            public void onCreate(Connection connection) {
                if (callBack.get() == null) {
                    try (Connection nested = self.get().getConnection()) {
                        callBack.set(new AssertionError("served: " + nested));
                    } catch (SQLException | RuntimeException e) {
                        callBack.set(e);
                    }
                    try {
                        self.get().setMaximumPoolSize(3);
                    } catch (RuntimeException e) {
                        resize.set(e);
                    }
                }
            }
        };
        try (FerryDataSource ds = lazy(reentrant)) {
            self.set(ds);
            Future<Boolean> first = threads.submit(() -> {
                try (Connection c = ds.getConnection()) {
                    return c.isValid(1);
                }
            });
            assertThat(first.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(callBack.get()).isInstanceOf(SQLException.class).hasMessageContaining("from the start itself")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55000"));
            assertThat(resize.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("own start");
        }
    }
}
