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

    /** Holds the first onCreate until released. */
    private final ConnectionInterceptor slowFirstCreate = new ConnectionInterceptor() {
        @Override
        public void onCreate(Connection connection) throws SQLException {
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

    @Test
    void otherCallersAreNotBlockedByTheStartsUserCodeAndGetThePoolItStarts() throws Exception {
        try (FerryDataSource ds = lazy(slowFirstCreate)) {
            Future<Boolean> first = threads.submit(() -> {
                try (Connection c = ds.getConnection()) {
                    return c.isValid(1);
                }
            });
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            // These take the data source's lock: they return while the start's onCreate is still held.
            assertThat(threads.submit(ds::metricsFactory).get(5, TimeUnit.SECONDS)).isNull();
            assertThatThrownBy(() -> ds.setIdleTimeout(1_000)).isInstanceOf(IllegalStateException.class);
            Future<Boolean> second = threads.submit(() -> {
                try (Connection c = ds.getConnection()) {
                    return c.isValid(1);
                }
            });
            Future<?> resize = threads.submit(() -> ds.setMaximumPoolSize(3)); // waits for the start, then applies
            release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(second.get(10, TimeUnit.SECONDS)).isTrue();
            resize.get(10, TimeUnit.SECONDS);
            assertThat(ds.unwrap(FerryPool.class).maximumPoolSize()).isEqualTo(3);
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
            assertThat(Postgres.backends(admin, app)).as("nothing left open").isZero();
        }
        assertThat(ds.isClosed()).isTrue();
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
            assertThat(callBack.get()).isInstanceOf(SQLException.class).hasMessageContaining("from the start itself");
            assertThat(resize.get()).isInstanceOf(IllegalStateException.class);
        }
    }
}
