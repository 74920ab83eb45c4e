package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.observe.MetricsTrackerFactory;
import dev.ferry.observe.PoolMetrics;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pool events and the metrics SPI, under the settings users pick (a pool of 1, minimumIdle 0 and 1, a 250 ms
 * connectionTimeout): time is a fake ticker and a manual scheduler, except a borrower's own wait.
 */
class PoolEventsTest {

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);
    private final StubDatabase db = StubDatabase.create();
    private final RecordingListener events = new RecordingListener();
    private final Recording metrics = new Recording();
    private FerryDataSource ds;

    private FerryConfig.Builder config(int size) {
        return FerryConfig.builder().jdbcUrl(db.url()).driverClassName("dev.ferry.testkit.StubDriver")
                .ticker(ticker).scheduler(scheduler).maximumPoolSize(size)
                .connectionTimeout(Duration.ofMillis(250)).listener(events).metricsTrackerFactory(metrics);
    }

    private FerryPool start(FerryConfig.Builder config) throws SQLException {
        ds = new FerryDataSource(config.build());
        ds.start();
        return ds.unwrap(FerryPool.class);
    }

    @AfterEach
    void close() {
        if (ds != null) {
            ds.close();
        }
    }

    @ParameterizedTest(name = "minimumIdle={0}")
    @ValueSource(ints = {0, 1})
    void exhaustionIsRaisedOnceAndRecoveryAfterAQuietSecond(int minimumIdle) throws Exception {
        start(config(1).minimumIdle(minimumIdle));
        Connection held = ds.getConnection();
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class);
        }
        assertThat(events.of(PoolEvent.Exhausted.class)).as("one event for the whole exhaustion").singleElement()
                .satisfies(e -> {
                    assertThat(e.total()).isEqualTo(1);
                    assertThat(e.active()).isEqualTo(1);
                    assertThat(e.waiting()).isEqualTo(1);
                    assertThat(e.cap()).isEqualTo(1);
                });
        held.close();
        assertThat(events.of(PoolEvent.Recovered.class)).as("callers waited at the cap just now").isEmpty();
        ticker.advance(Duration.ofSeconds(2));
        ds.getConnection().close();
        assertThat(events.of(PoolEvent.Recovered.class)).singleElement().satisfies(r -> {
            assertThat(r.timeouts()).isEqualTo(3);
            assertThat(r.exhaustedFor()).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        });
        assertThat(metrics.count("timedOut")).isEqualTo(3);
    }

    @Test
    void housekeepingNoticesRecoveryWhenNothingComesBack() throws Exception {
        start(config(1).minimumIdle(0).housekeepingPeriod(Duration.ofSeconds(30)));
        Connection held = ds.getConnection();
        assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class);
        held.close(); // within the quiet second: not yet
        assertThat(events.of(PoolEvent.Recovered.class)).isEmpty();
        scheduler.advance(Duration.ofSeconds(30));
        assertThat(events.of(PoolEvent.Recovered.class)).hasSize(1);
    }

    @Test
    void reserveUseIsAnEventAndAMetric() throws Exception {
        start(config(1).minimumIdle(0).reserve(1));
        try (Connection held = ds.getConnection(); Connection critical = ds.getConnection(Priority.CRITICAL)) {
            assertThat(critical.isValid(1)).isTrue();
            assertThat(events.of(PoolEvent.ReserveUsed.class)).singleElement().satisfies(e -> {
                assertThat(e.uses()).isEqualTo(1);
                assertThat(e.open()).isEqualTo(2);
                assertThat(e.maximumPoolSize()).isEqualTo(1);
            });
            assertThat(metrics.count("reserveUsed")).isEqualTo(1);
        }
    }

    @Test
    void aLeakIsReportedAndSoIsItsReturn() throws Exception {
        start(config(1).minimumIdle(0).leakDetectionThreshold(Duration.ofSeconds(2)));
        Connection c = ds.getConnection();
        scheduler.advance(Duration.ofSeconds(3));
        assertThat(events.of(PoolEvent.LeakSuspected.class)).singleElement().satisfies(e -> {
            assertThat(e.heldFor()).isEqualTo(Duration.ofSeconds(3));
            assertThat(e.borrowerSite().getStackTrace()).anySatisfy(frame ->
                    assertThat(frame.getMethodName()).isEqualTo("aLeakIsReportedAndSoIsItsReturn"));
        });
        assertThat(metrics.count("leakSuspected")).isEqualTo(1);
        ticker.advance(Duration.ofSeconds(1));
        c.close();
        assertThat(events.of(PoolEvent.LeakReturned.class)).singleElement()
                .satisfies(e -> assertThat(e.heldFor()).isEqualTo(Duration.ofSeconds(4)));
        ds.getConnection().close(); // a later, short borrow reports nothing
        assertThat(events.of(PoolEvent.LeakReturned.class)).hasSize(1);
    }

    @Test
    void evictionsCarryTheirReason() throws Exception {
        FerryPool pool = start(config(2).minimumIdle(2));
        await().until(() -> pool.idleConnections() == 2);
        Connection c = ds.getConnection();
        pool.evictConnection(c);
        c.close();
        await().until(() -> pool.idleConnections() == 2); // refilled
        pool.softEvictConnections();
        await().until(() -> events.of(PoolEvent.ConnectionEvicted.class).size() == 3);
        assertThat(events.of(PoolEvent.ConnectionEvicted.class)).extracting(PoolEvent.ConnectionEvicted::reason)
                .containsExactlyInAnyOrder("evicted by the application", "soft eviction", "soft eviction");
        await().until(() -> metrics.count("evicted:soft eviction") == 2);
        assertThat(metrics.count("evicted:evicted by the application")).isEqualTo(1);
    }

    @Test
    void aBrokenConnectionIsEvictedAsBroken() throws Exception {
        start(config(1).minimumIdle(0));
        Connection c = ds.getConnection();
        db.executeFailureRate = 1.0; // the stub's connection-fatal failure, SQLState 08006
        assertThatThrownBy(() -> c.createStatement().execute("SELECT 1")).isInstanceOf(SQLException.class);
        db.executeFailureRate = 0;
        c.close();
        assertThat(events.of(PoolEvent.ConnectionEvicted.class)).singleElement()
                .satisfies(e -> assertThat(e.reason()).startsWith("broken (SQLState 08006): "));
    }

    @Test
    void resizeIsAnEvent() throws Exception {
        FerryPool pool = start(config(2).minimumIdle(0));
        pool.setMaximumPoolSize(5);
        pool.setMaximumPoolSize(5); // no change, no event
        assertThat(events.of(PoolEvent.Resized.class)).containsExactly(new PoolEvent.Resized(pool.poolName(), 2, 5));
    }

    @Test
    void aFailingListenerNeitherFailsTheBorrowNorSilencesTheOthers() throws Exception {
        FerryListener broken = new FerryListener() {
            @Override
            public void poolExhausted(PoolEvent.Exhausted event) {
                throw new IllegalStateException("listener bug");
            }
        };
        start(config(1).minimumIdle(0).listener(broken).listener(new RecordingListener()));
        RecordingListener after = (RecordingListener) ds.unwrap(dev.ferry.pool.ConnectionPool.class).config()
                .listeners().get(2);
        try (Connection held = ds.getConnection()) {
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class)
                    .hasMessageContaining("request timed out after 250ms");
        }
        assertThat(after.of(PoolEvent.Exhausted.class)).hasSize(1);
        assertThat(events.of(PoolEvent.Exhausted.class)).hasSize(1);
    }

    @Test
    void metricsSeeEveryBorrowReturnAndConnect() throws Exception {
        FerryPool pool = start(config(2).minimumIdle(0));
        assertThat(metrics.pool).isSameAs(pool);
        for (int i = 0; i < 5; i++) {
            try (Connection c = ds.getConnection()) {
                ticker.advance(Duration.ofMillis(7));
            }
        }
        assertThat(metrics.count("acquired")).isEqualTo(5);
        assertThat(metrics.count("released")).isEqualTo(5);
        assertThat(metrics.nanos("released")).isEqualTo(Duration.ofMillis(35).toNanos());
        assertThat(metrics.count("created")).isEqualTo(1);
        ds.close();
        assertThat(metrics.count("close")).isEqualTo(1);
    }

    @Test
    void aFullWaitQueueIsCountedAsRejected() throws Exception {
        FerryPool pool = start(config(1).minimumIdle(0).maxWaiting(1).connectionTimeout(Duration.ofSeconds(5)));
        try (Connection held = ds.getConnection()) {
            Thread waiter = new Thread(() -> {
                try {
                    ds.getConnection().close();
                } catch (SQLException ignored) {
                    // the test only needs it to wait
                }
            });
            waiter.start();
            await().until(() -> pool.waitingThreads() == 1);
            assertThatThrownBy(ds::getConnection).hasMessageContaining("maxWaiting=1");
            assertThat(metrics.count("rejected:maxWaiting")).isEqualTo(1);
            held.close();
            waiter.join(5_000);
        }
    }

    @Test
    void aThrowingMetricsTrackerBreaksNothing() throws Exception {
        PoolMetrics broken = new PoolMetrics() {
            @Override
            public void acquired(String lane, long nanos) {
                throw new IllegalStateException("tracker bug");
            }

            @Override
            public void released(String lane, long nanos) {
                throw new IllegalStateException("tracker bug");
            }

            @Override
            public void created(long nanos) {
                throw new IllegalStateException("tracker bug");
            }

            @Override
            public void evicted(String reason) {
                throw new IllegalStateException("tracker bug");
            }
        };
        FerryPool pool = start(FerryConfig.builder().jdbcUrl(db.url()).driverClassName("dev.ferry.testkit.StubDriver")
                .ticker(ticker).scheduler(scheduler).maximumPoolSize(2).minimumIdle(0)
                .connectionTimeout(Duration.ofMillis(250)).metricsTrackerFactory(p -> broken));
        for (int i = 0; i < 5; i++) {
            try (Connection c = ds.getConnection()) {
                assertThat(c.isValid(1)).isTrue();
            }
        }
        assertThat(pool.activeConnections()).as("every connection came back").isZero();
        assertThat(db.opened.get()).as("a connect whose metrics failed still counts as made").isEqualTo(1);
        pool.softEvictConnections();
        await().until(() -> db.open.get() == 0); // closed despite the tracker
        try (Connection c = ds.getConnection()) {
            assertThat(c.isValid(1)).isTrue();
        }
    }

    /** A metrics SPI implementation that counts calls (and sums nanos) by method. */
    static final class Recording implements MetricsTrackerFactory, PoolMetrics {
        final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
        final Map<String, AtomicLong> sums = new ConcurrentHashMap<>();
        volatile FerryPool pool;

        long count(String key) {
            return counts.getOrDefault(key, new AtomicLong()).get();
        }

        long nanos(String key) {
            return sums.getOrDefault(key, new AtomicLong()).get();
        }

        private void add(String key, long nanos) {
            counts.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
            sums.computeIfAbsent(key, k -> new AtomicLong()).addAndGet(nanos);
        }

        @Override
        public PoolMetrics create(FerryPool pool) {
            this.pool = pool;
            return this;
        }

        @Override
        public void acquired(String lane, long nanos) {
            add("acquired", nanos);
        }

        @Override
        public void released(String lane, long nanos) {
            add("released", nanos);
        }

        @Override
        public void created(long nanos) {
            add("created", nanos);
        }

        @Override
        public void timedOut(String lane) {
            add("timedOut", 0);
        }

        @Override
        public void rejected(String reason) {
            add("rejected:" + reason, 0);
        }

        @Override
        public void evicted(String reason) {
            add("evicted:" + reason, 0);
        }

        @Override
        public void leakSuspected() {
            add("leakSuspected", 0);
        }

        @Override
        public void reserveUsed() {
            add("reserveUsed", 0);
        }

        @Override
        public void close() {
            add("close", 0);
        }
    }
}
