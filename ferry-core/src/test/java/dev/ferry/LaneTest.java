package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.capacity.Lane;
import dev.ferry.capacity.LaneBudget;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Lanes over one pool, on the stub driver: caps, minimums given back first, weighted shares, FIFO within a lane,
 * and the budget never exceeded. Waiters are started one at a time, each seen waiting before the next starts, so
 * arrival order is known.
 */
class LaneTest {

    private final StubDatabase db = StubDatabase.create();
    private final List<FerryDataSource> opened = new ArrayList<>();
    private final List<Connection> held = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    private FerryConfig.Builder config(int max) {
        return FerryConfig.builder().jdbcUrl(db.url()).driverClassName("dev.ferry.testkit.StubDriver")
                .poolName("lanes").maximumPoolSize(max).connectionTimeout(Duration.ofSeconds(30));
    }

    private FerryDataSource start(FerryConfig.Builder b) {
        FerryDataSource ds = new FerryDataSource(b.build());
        opened.add(ds);
        return ds;
    }

    @AfterEach
    void stop() throws Exception {
        for (Connection c : held) {
            c.close();
        }
        threads.shutdownNow();
        opened.forEach(FerryDataSource::close);
    }

    private static LaneBudget.LaneState lane(FerryPool pool, String name) {
        return pool.lanes().stream().filter(l -> l.lane().name().equals(name)).findFirst().orElseThrow();
    }

    private void take(DataSource lane, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            held.add(lane.getConnection());
        }
    }

    /** Callers waiting: in the pool's queue, or at a lane's cap. */
    private static int waiting(FerryPool pool) {
        return pool.waitingThreads() + pool.lanes().stream().mapToInt(LaneBudget.LaneState::waitingAtCap).sum();
    }

    /** A caller in {@code lane} that records {@code name} when served and keeps the connection until released. */
    private Future<Connection> waiter(FerryPool pool, DataSource lane, String name, List<String> served) {
        int before = waiting(pool);
        Future<Connection> f = threads.submit(() -> {
            Connection c = lane.getConnection();
            served.add(name);
            return c;
        });
        await().until(() -> waiting(pool) == before + 1);
        return f;
    }

    @ParameterizedTest(name = "minimumIdle {0}")
    @ValueSource(ints = {0, 1})
    void aLaneBorrowsIdleCapacityUpToItsCapAndGivesItBackToAnOwnerBelowItsMinimumFirst(int minimumIdle)
            throws Exception {
        FerryDataSource ds = start(config(4).minimumIdle(minimumIdle).lane("web", 2, 4).lane("analytics", 1, 4));
        FerryPool pool = ds.unwrap(FerryPool.class);
        DataSource web = ds.lane("web");
        DataSource analytics = ds.lane("analytics");

        take(analytics, 3); // web is idle: analytics borrows two of web's places
        assertThat(lane(pool, "analytics").lent()).isEqualTo(3);
        List<String> served = new CopyOnWriteArrayList<>();
        take(web, 1); // the last place in the budget
        Future<Connection> analyticsWaiter = waiter(pool, analytics, "analytics-1", served);
        Future<Connection> webWaiter = waiter(pool, web, "web-1", served);

        held.remove(0).close(); // analytics gives one back: web is below its minimum and goes first
        held.add(webWaiter.get(5, TimeUnit.SECONDS));
        assertThat(served).containsExactly("web-1");
        assertThat(lane(pool, "web").lent()).isEqualTo(2);
        held.remove(0).close(); // web is at its minimum now: analytics' waiter is next
        held.add(analyticsWaiter.get(5, TimeUnit.SECONDS));
        assertThat(served).containsExactly("web-1", "analytics-1");
        assertThat(pool.totalConnections()).isLessThanOrEqualTo(4);
    }

    @Test
    void aLaneAtItsCapWaitsAndTimesOutNamingTheLaneWhileOtherLanesAreServed() throws Exception {
        FerryDataSource ds = start(config(4).connectionTimeout(Duration.ofMillis(250)).lane("analytics", 0, 1));
        DataSource analytics = ds.lane("analytics");
        take(analytics, 1);
        assertThatThrownBy(analytics::getConnection).isInstanceOf(SQLTransientConnectionException.class)
                .hasMessageContaining("not available in lane analytics").hasMessageContaining("at the lane's cap")
                .hasMessageContaining("cap 1").hasMessageContaining("lent 1");
        take(ds, 3); // the main lane still has the rest of the budget
        assertThat(ds.unwrap(FerryPool.class).activeConnections()).isEqualTo(4);
    }

    @Test
    void twoBusyLanesShareWhatIsAboveTheMinimumsByWeight() throws Exception {
        FerryDataSource ds = start(config(4).lane("a", 0, 4, 3).lane("b", 0, 4, 1));
        FerryPool pool = ds.unwrap(FerryPool.class);
        DataSource a = ds.lane("a");
        DataSource b = ds.lane("b");
        List<Connection> heldByB = new ArrayList<>();
        take(a, 1);
        for (int i = 0; i < 3; i++) {
            heldByB.add(b.getConnection());
        }
        List<String> served = new CopyOnWriteArrayList<>();
        List<Future<Connection>> waiters = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            waiters.add(waiter(pool, b, "b-" + i, served));
            waiters.add(waiter(pool, a, "a-" + i, served));
        }
        for (int i = 0; i < heldByB.size(); i++) {
            heldByB.get(i).close(); // each return goes to the lane with the fewest connections per unit of weight
            int n = i + 1;
            await().until(() -> served.size() == n);
        }
        // Arrival ranks, by demand (lent + waiting, the caller included) against the share (a 3 of 4, b 1 of 4):
        // b-1..3 are above b's and wait at BULK; a-1 (demand 2) and a-2 (3) wait at NORMAL, a-3 (4) at BULK.
        // Returns go to a-1, a-2, then the BULK queue in arrival order: b-1.
        assertThat(served).containsExactly("a-1", "a-2", "b-1");
        // Lent: a 3, b 1 (three to one, by weight); still waiting: a-3, b-2, b-3.
        assertThat(lane(pool, "a").lent()).isEqualTo(3);
        assertThat(lane(pool, "b").lent()).isEqualTo(1);
        assertThat(lane(pool, "a").waiting() + lane(pool, "b").waiting()).isEqualTo(3);
        for (Future<Connection> f : waiters) {
            if (f.isDone()) {
                held.add(f.get());
            } else {
                f.cancel(true);
            }
        }
    }

    @Test
    void callersInOneLaneAreServedFirstComeFirstServed() throws Exception {
        FerryDataSource ds = start(config(1).minimumIdle(0).lane("jobs", 0, 1));
        FerryPool pool = ds.unwrap(FerryPool.class);
        DataSource jobs = ds.lane("jobs");
        Connection first = jobs.getConnection();
        List<String> served = new CopyOnWriteArrayList<>();
        List<Future<Connection>> all = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            all.add(waiter(pool, jobs, "job-" + i, served));
        }
        first.close();
        for (Future<Connection> f : all) {
            f.get(5, TimeUnit.SECONDS).close();
        }
        assertThat(served).containsExactly("job-1", "job-2", "job-3", "job-4");
    }

    @Test
    void criticalCallersTakeNoPermitAndLaneCapsHoldForEveryoneElse() throws Exception {
        FerryDataSource ds = start(config(2).connectionTimeout(Duration.ofMillis(200)).lane("batch", 0, 1));
        FerryPool pool = ds.unwrap(FerryPool.class);
        take(ds.lane("batch"), 1);
        Connection critical = ds.lane("batch").forPriority(Priority.CRITICAL).getConnection(); // not held back
        held.add(critical);
        assertThat(lane(pool, "batch").lent()).isEqualTo(1);
        assertThatThrownBy(() -> ds.lane("batch").getConnection()).hasMessageContaining("lane batch");
    }

    @Test
    void aLanesShareChangesWhileRunningAndItsWaitersAreServedAtOnce() throws Exception {
        FerryDataSource ds = start(config(4).lane("reports", 0, 1));
        FerryPool pool = ds.unwrap(FerryPool.class);
        DataSource reports = ds.lane("reports");
        take(reports, 1);
        List<String> served = new CopyOnWriteArrayList<>();
        Future<Connection> second = waiter(pool, reports, "reports-2", served);
        assertThat(lane(pool, "reports").waitingAtCap()).isEqualTo(1);
        pool.setLane(new Lane("reports", 0, 2, 1));
        held.add(second.get(5, TimeUnit.SECONDS));
        assertThat(lane(pool, "reports").lent()).isEqualTo(2);
        assertThatThrownBy(() -> pool.setLane(new Lane("reports", 0, 5, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got cap 5 with maximumPoolSize 4");
        assertThatThrownBy(() -> pool.setLane(new Lane("nope", 0, 1, 1))).hasMessageContaining("allowed: [reports, main]");
        assertThatThrownBy(() -> pool.setMaximumPoolSize(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theMainLaneCanBeCappedAndUncappedWhileRunning() throws Exception {
        FerryDataSource ds = start(config(4).connectionTimeout(Duration.ofMillis(200)).lane("jobs", 1, 2));
        FerryPool pool = ds.unwrap(FerryPool.class);
        pool.setLane(new Lane("main", 0, 2, 1));
        take(ds, 2);
        assertThatThrownBy(ds::getConnection).hasMessageContaining("lane main");
        pool.setLane(new Lane("main", 0, 4, 1));
        take(ds, 1); // room again
        assertThat(lane(pool, "main").lent()).isEqualTo(3);
    }

    @Test
    void aCapThatStartsToBindCountsTheCallersAdmittedBeforeIt() throws Exception {
        FerryDataSource ds = start(config(4).connectionTimeout(Duration.ofMillis(200)).lane("reports", 0, 4));
        FerryPool pool = ds.unwrap(FerryPool.class);
        DataSource reports = ds.lane("reports");
        take(reports, 4); // the cap equals the budget: not binding, but every admission counts
        pool.setMaximumPoolSize(8); // now the cap of 4 binds, and the lane already holds 4
        assertThatThrownBy(reports::getConnection).hasMessageContaining("at the lane's cap");
        take(ds, 4); // the main lane has the rest of the budget
        assertThat(lane(pool, "reports").lent()).isEqualTo(4);
        held.remove(0).close();
        take(reports, 1); // below its cap again
        assertThat(lane(pool, "reports").lent()).isEqualTo(4);
    }

    @Test
    void invalidLanesFailWhenTheConfigurationIsBuilt() {
        assertThatThrownBy(() -> config(4).lane("a", 3, 4).lane("b", 2, 4).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minimums adding up to 5 with maximumPoolSize 4");
        assertThatThrownBy(() -> config(4).lane("a", 0, 5).build()).hasMessageContaining("got cap 5 with maximumPoolSize 4");
        assertThatThrownBy(() -> config(4).lane("a", 0, 2).lane("a", 0, 1).build()).hasMessageContaining("got it twice");
        assertThatThrownBy(() -> config(4).lane("a", 3, 2)).hasMessageContaining("cap at least 1 and at least the minimum");
        assertThatThrownBy(() -> config(4).lane(" ", 0, 2)).hasMessageContaining("non-blank");
        assertThatThrownBy(() -> config(4).lane("a", 0, 2, 0)).hasMessageContaining("weight 1 or more");
        FerryDataSource ds = start(config(2).lane("a", 1, 2));
        assertThatThrownBy(() -> ds.lane("b")).hasMessageContaining("lane: got 'b'; allowed: main, a");
        assertThat(ds.lane("main")).isNotNull();
        assertThat(config(2).lane("a", 1, 2).build().toString()).contains("lanes=[a(min 1, cap 2, weight 1)]");
    }

    @Test
    void aLaneViewKeepsItsLaneAndAViewTakenBeforeThePoolStartsIsCheckedAtItsFirstBorrow() throws Exception {
        FerryDataSource ds = start(config(2).lane("reports", 0, 1));
        DataSource reports = ds.lane("reports");
        take(reports, 1);
        assertThat(lane(ds.unwrap(FerryPool.class), "reports").lent()).isEqualTo(1);
        held.remove(0).close();
        take(reports, 1); // the looked-up lane is kept: borrowing again counts in the same lane
        assertThat(lane(ds.unwrap(FerryPool.class), "reports").lent()).isEqualTo(1);

        FerryDataSource other = start(config(2).lane("reports", 0, 1));
        LaneBudget.Slot foreign = other.unwrap(dev.ferry.pool.ConnectionPool.class).laneSlot("reports");
        assertThatThrownBy(() -> ds.unwrap(dev.ferry.pool.ConnectionPool.class).getConnection(foreign, Priority.NORMAL))
                .isInstanceOf(java.sql.SQLException.class).hasMessageContaining("a lane of another pool");

        FerryDataSource lazy = new FerryDataSource(); // started by its first borrow: views cannot check names yet
        opened.add(lazy);
        lazy.setJdbcUrl(db.url());
        lazy.setDriverClassName("dev.ferry.testkit.StubDriver");
        lazy.setMaximumPoolSize(1);
        DataSource main = lazy.lane("main");
        DataSource unknown = lazy.lane("reports");
        take(main, 1); // the main lane of a pool without lanes is the pool
        assertThat(lazy.unwrap(FerryPool.class).lanes()).isEmpty();
        assertThatThrownBy(unknown::getConnection).isInstanceOf(java.sql.SQLException.class)
                .hasMessageContaining("lane: got 'reports'; allowed: none configured");
    }

    @Test
    void underStressNoLaneExceedsItsCapTheBudgetHoldsAndNoConnectionIsLentTwice() throws Exception {
        int max = 6;
        FerryDataSource ds = start(config(max).minimumIdle(0).lane("web", 2, 6, 3).lane("jobs", 1, 3, 1)
                .lane("reports", 0, 2, 1));
        Map<String, Integer> caps = Map.of("web", 6, "jobs", 3, "reports", 2, "main", max);
        Map<String, AtomicInteger> out = new ConcurrentHashMap<>();
        caps.keySet().forEach(n -> out.put(n, new AtomicInteger()));
        AtomicInteger total = new AtomicInteger();
        Map<Connection, Boolean> lent = new ConcurrentHashMap<>();
        List<String> violations = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> workers = new ArrayList<>();
        String[] names = {"web", "jobs", "reports", "main"};
        for (int t = 0; t < 16; t++) {
            String laneName = names[t % names.length];
            DataSource lane = laneName.equals("main") ? ds : ds.lane(laneName);
            workers.add(threads.submit(() -> {
                go.await();
                for (int i = 0; i < 1500; i++) {
                    try (Connection c = lane.getConnection()) {
                        Connection physical = c.unwrap(Connection.class);
                        if (lent.put(physical, Boolean.TRUE) != null) {
                            violations.add("lent twice: " + physical);
                        }
                        int inLane = out.get(laneName).incrementAndGet();
                        int all = total.incrementAndGet();
                        if (inLane > caps.get(laneName) || all > max) {
                            violations.add(laneName + " " + inLane + " of cap " + caps.get(laneName) + ", total " + all);
                        }
                        if (ThreadLocalRandom.current().nextInt(4) == 0) {
                            Thread.sleep(0, 200_000);
                        }
                        out.get(laneName).decrementAndGet();
                        total.decrementAndGet();
                        lent.remove(physical);
                    }
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> w : workers) {
            w.get(60, TimeUnit.SECONDS);
        }
        assertThat(violations).isEmpty();
        FerryPool pool = ds.unwrap(FerryPool.class);
        assertThat(pool.lanes()).allSatisfy(l -> assertThat(l.lent()).isZero());
        assertThat(db.peakOpen.get()).isLessThanOrEqualTo(max);
    }
}
