package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Priority among waiting callers and the emergency reserve, on the stub driver. Waiters are started one at a
 * time (each counted as waiting before the next starts), so arrival order is known; the order they are served
 * in is the order they record. BULK aging reads the injected ticker.
 */
class PriorityTest {

    private final StubDatabase db = StubDatabase.create();
    private final FakeTicker ticker = new FakeTicker();
    private final List<FerryDataSource> opened = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    private FerryConfig.Builder config(int size) {
        return FerryConfig.builder().jdbcUrl(db.url()).driverClassName("dev.ferry.testkit.StubDriver")
                .poolName("priority").maximumPoolSize(size).connectionTimeout(Duration.ofSeconds(30)).ticker(ticker);
    }

    private FerryDataSource start(FerryConfig.Builder builder) {
        FerryDataSource ds = new FerryDataSource(builder.build());
        opened.add(ds);
        return ds;
    }

    @AfterEach
    void stop() {
        threads.shutdownNow();
        opened.forEach(FerryDataSource::close);
    }

    /** Starts a caller that borrows at {@code p}, records {@code name} once served, and returns at once. */
    private Future<?> waiter(FerryDataSource ds, Priority p, String name, List<String> served, int waitingAfter) {
        Future<?> f = threads.submit(() -> {
            try (Connection c = ds.getConnection(p)) {
                served.add(name);
            }
            return null;
        });
        await().until(() -> ds.unwrap(FerryPool.class).waitingThreads() == waitingAfter);
        return f;
    }

    @ParameterizedTest(name = "minimumIdle {0}")
    @ValueSource(ints = {0, 1})
    void waitersAreServedByPriorityFirstComeFirstServedWithinOne(int minimumIdle) throws Exception {
        FerryDataSource ds = start(config(1).minimumIdle(minimumIdle));
        List<String> served = new CopyOnWriteArrayList<>();
        List<Future<?>> all = new ArrayList<>();
        try (Connection held = ds.getConnection()) {
            all.add(waiter(ds, Priority.BULK, "bulk-1", served, 1));
            all.add(waiter(ds, Priority.NORMAL, "normal-1", served, 2));
            all.add(waiter(ds, Priority.CRITICAL, "critical-1", served, 3));
            all.add(waiter(ds, Priority.NORMAL, "normal-2", served, 4));
            all.add(waiter(ds, Priority.CRITICAL, "critical-2", served, 5));
            all.add(waiter(ds, Priority.BULK, "bulk-2", served, 6));
        }
        for (Future<?> f : all) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(served).containsExactly("critical-1", "critical-2", "normal-1", "normal-2", "bulk-1", "bulk-2");
    }

    @Test
    void aBulkWaiterThatWaitedASecondIsServedWithNormalOnesByArrival() throws Exception {
        FerryDataSource ds = start(config(1));
        List<String> served = new CopyOnWriteArrayList<>();
        List<Future<?>> all = new ArrayList<>();
        try (Connection held = ds.getConnection()) {
            all.add(waiter(ds, Priority.BULK, "bulk-old", served, 1));
            all.add(waiter(ds, Priority.NORMAL, "normal-1", served, 2));
            ticker.advance(Duration.ofSeconds(1)); // bulk-old has now waited a second: aged
            all.add(waiter(ds, Priority.NORMAL, "normal-2", served, 3));
            all.add(waiter(ds, Priority.BULK, "bulk-new", served, 4));
        }
        for (Future<?> f : all) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(served).containsExactly("bulk-old", "normal-1", "normal-2", "bulk-new");
    }

    @Test
    void theReserveServesCriticalCallersOnlyAndOnlyWhenThePoolIsExhausted() throws Exception {
        FerryDataSource ds = start(config(2).minimumIdle(2).reserve(1));
        FerryPool pool = ds.unwrap(FerryPool.class);
        try (Connection idle = ds.getConnection(Priority.CRITICAL)) {
            assertThat(pool.reserveUses()).as("a free connection: no reserve").isZero();
        }
        Connection a = ds.getConnection();
        Connection b = ds.getConnection();
        Connection critical = ds.getConnection(Priority.CRITICAL);
        assertThat(pool.reserveUses()).isEqualTo(1);
        assertThat(pool.totalConnections()).isEqualTo(3);
        assertThatThrownBy(() -> pool.getConnection(Duration.ofMillis(50)))
                .as("NORMAL callers never get the reserve").isInstanceOf(SQLTransientConnectionException.class);
        // The reserve is full: a second CRITICAL caller waits, first in line, for the next return.
        Future<Connection> second = threads.submit(() -> ds.getConnection(Priority.CRITICAL));
        await().until(() -> pool.waitingThreads() == 1);
        a.close();
        Connection secondConnection = second.get(10, TimeUnit.SECONDS);
        assertThat(pool.reserveUses()).isEqualTo(1);
        critical.close(); // returned while the pool is above its maximum: closed, the reserve place is free again
        await().until(() -> pool.totalConnections() == 2);
        secondConnection.close();
        b.close();
        assertThat(pool.totalConnections()).isEqualTo(2);
    }

    @Test
    void withAReserveTimeoutACriticalCallerFirstWaitsForANormalConnection() throws Exception {
        FerryDataSource ds = start(config(1).reserve(1).reserveTimeout(Duration.ofSeconds(20)));
        FerryPool pool = ds.unwrap(FerryPool.class);
        Connection held = ds.getConnection();
        Future<Connection> critical = threads.submit(() -> ds.getConnection(Priority.CRITICAL));
        await().until(() -> pool.waitingThreads() == 1);
        held.close();
        critical.get(10, TimeUnit.SECONDS).close();
        assertThat(pool.reserveUses()).as("a normal connection came back within reserveTimeout").isZero();
        assertThat(pool.totalConnections()).isEqualTo(1);
    }

    @Test
    void aPriorityViewBorrowsAtItsPriority() throws Exception {
        FerryDataSource ds = start(config(1).reserve(1));
        DataSource criticalView = ds.forPriority(Priority.CRITICAL);
        try (Connection held = ds.getConnection(); Connection viaView = criticalView.getConnection()) {
            assertThat(ds.unwrap(FerryPool.class).reserveUses()).isEqualTo(1);
            assertThat(viaView.isValid(1)).isTrue();
            assertThat(held.isValid(1)).isTrue();
        }
        assertThat(criticalView.unwrap(FerryPool.class)).isSameAs(ds.unwrap(FerryPool.class));
    }

    @Test
    void aCriticalBatchedLookupBorrowsAtCriticalPriorityAndMayUseTheReserve() throws Exception {
        FerryDataSource h2 = start(FerryConfig.builder().jdbcUrl("jdbc:h2:mem:priority;DB_CLOSE_DELAY=-1")
                .poolName("h2-priority").maximumPoolSize(1).reserve(1).connectionTimeout(Duration.ofMillis(500)));
        try (Connection c = h2.getConnection(); java.sql.Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_prio (id BIGINT PRIMARY KEY, name VARCHAR(10))");
            s.execute("MERGE INTO ferry_prio KEY (id) VALUES (1, 'one')");
        }
        try (dev.ferry.batch.BatchedLookup<Long, String> lookup = h2.<Long, String>batchedLookup(Long.class)
                .sql("SELECT id, name FROM ferry_prio WHERE id IN (:keys)")
                .key(rs -> rs.getLong(1)).row(rs -> rs.getString(2)).build();
             Connection held = h2.getConnection()) { // the pool's only connection
            assertThat(lookup.load(1L, Priority.CRITICAL).get(10, TimeUnit.SECONDS)).contains("one");
            assertThat(h2.unwrap(FerryPool.class).reserveUses()).isEqualTo(1);
            assertThat(held.isValid(1)).isTrue();
        }
    }

    @Test
    void aStandingQueueIsOverloadAndSheddingRefusesNewNormalCallersButNeverCriticalOnes() throws Exception {
        RecordingListener events = new RecordingListener();
        FerryDataSource ds = start(config(1).queueWaitTarget(Duration.ofMillis(50))
                .overloadInterval(Duration.ofMillis(100)).shedOnOverload(true).listener(events));
        FerryPool pool = ds.unwrap(FerryPool.class);
        List<String> served = new CopyOnWriteArrayList<>();
        Connection held = ds.getConnection();
        Future<Connection> w1 = threads.submit(() -> ds.getConnection(Priority.NORMAL));
        await().until(() -> pool.waitingThreads() == 1);
        Future<Connection> w2 = threads.submit(() -> ds.getConnection(Priority.NORMAL));
        await().until(() -> pool.waitingThreads() == 2);
        ticker.advance(Duration.ofMillis(60)); // fake time: nobody really waits
        assertThat(pool.oldestWait()).isEqualTo(Duration.ofMillis(60));
        held.close();
        Connection c1 = w1.get(10, TimeUnit.SECONDS); // waited 60 ms: above the target, the episode's clock starts
        assertThat(pool.isOverloaded()).isFalse();
        Future<Connection> w3 = threads.submit(() -> ds.getConnection(Priority.BULK)); // the queue stands
        await().until(() -> pool.waitingThreads() == 2);
        ticker.advance(Duration.ofMillis(100));
        c1.close();
        Connection c2 = w2.get(10, TimeUnit.SECONDS); // waited 160 ms, 100 ms after the first: overloaded
        assertThat(pool.isOverloaded()).isTrue();
        assertThatThrownBy(ds::getConnection).as("a new NORMAL caller is refused at once")
                .isInstanceOf(SQLTransientConnectionException.class).hasMessageContaining("overloaded")
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));
        assertThatThrownBy(ds::getConnection).hasMessageContaining("overloaded");
        assertThat(events.of(PoolEvent.Shed.class)).as("one event for the overload, not one per refusal")
                .singleElement().satisfies(e -> {
                    assertThat(e.priority()).isEqualTo(Priority.NORMAL);
                    assertThat(e.queueWaitTarget()).isEqualTo(Duration.ofMillis(50));
                    assertThat(e.waiting()).isEqualTo(1);
                });
        Future<?> critical = waiter(ds, Priority.CRITICAL, "critical", served, 2); // never shed: it waits
        c2.close(); // to the CRITICAL waiter first (its short wait is not reported: it would mask the queue)
        critical.get(10, TimeUnit.SECONDS);
        w3.get(10, TimeUnit.SECONDS).close(); // the BULK caller waited 100 ms: still overloaded
        assertThat(served).containsExactly("critical");
        assertThat(pool.isOverloaded()).isTrue();
        try (Connection c = ds.getConnection()) { // a free connection, served at once: the episode is over
            assertThat(c.isValid(1)).isTrue();
        }
        assertThat(pool.isOverloaded()).isFalse();
    }

    @Test
    void aNullPriorityIsRefusedWithoutCountingAsWaiting() throws Exception {
        FerryDataSource ds = start(config(1));
        FerryPool pool = ds.unwrap(FerryPool.class);
        try (Connection held = ds.getConnection()) {
            assertThatThrownBy(() -> ds.getConnection((Priority) null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> pool.getConnection(null, Duration.ofMillis(10)))
                    .isInstanceOf(NullPointerException.class);
            assertThat(pool.waitingThreads()).isZero();
        }
    }

    @Test
    void criticalCallersAreNeverTurnedAwayByMaxWaiting() throws Exception {
        FerryDataSource ds = start(config(1).maxWaiting(0));
        FerryPool pool = ds.unwrap(FerryPool.class);
        Connection held = ds.getConnection();
        assertThatThrownBy(ds::getConnection).as("maxWaiting=0: NORMAL callers never wait")
                .isInstanceOf(SQLTransientConnectionException.class).hasMessageContaining("maxWaiting=0");
        Future<Connection> critical = threads.submit(() -> ds.getConnection(Priority.CRITICAL));
        await().until(() -> pool.waitingThreads() == 1);
        held.close();
        critical.get(10, TimeUnit.SECONDS).close();
    }

    @Test
    void overloadSettingsAreChecked() {
        assertThatThrownBy(() -> config(2).shedOnOverload(true).build())
                .hasMessageContaining("shedOnOverload: got true with queueWaitTarget=0 (off)");
        assertThatThrownBy(() -> config(2).overloadInterval(Duration.ofMillis(50)).build())
                .hasMessageContaining("overloadInterval: got 50ms with queueWaitTarget=0 (off)");
        assertThatThrownBy(() -> config(2).reserve(1).reserveTimeout(Duration.ofSeconds(30)).build())
                .hasMessageContaining("reserveTimeout: got 30000ms; allowed: less than connectionTimeout (30000ms)");
        assertThatThrownBy(() -> config(2).queueWaitTarget(Duration.ofMillis(10)).overloadInterval(Duration.ZERO)
                .build()).hasMessageContaining("overloadInterval: got 0ms; allowed: a positive duration");
    }

    @Test
    void reserveSettingsAreChecked() {
        assertThatThrownBy(() -> config(2).reserve(-1).build())
                .hasMessage("reserve: got -1; allowed: 0 (no reserve) to 10000");
        assertThatThrownBy(() -> config(2).reserveTimeout(Duration.ofMillis(100)).build())
                .hasMessageContaining("reserveTimeout: got 100ms with reserve=0");
        assertThat(config(2).reserve(2).build().toString()).contains("reserve=2, reserveTimeout=0ms");
    }

    @Test
    void aPoolOfOneWithShortTimeoutsStillServesPriorities() throws SQLException {
        FerryDataSource ds = start(config(1).minimumIdle(0).connectionTimeout(Duration.ofMillis(250)));
        for (Priority p : Priority.values()) {
            try (Connection c = ds.getConnection(p)) {
                assertThat(c.isValid(1)).isTrue();
            }
        }
    }
}
