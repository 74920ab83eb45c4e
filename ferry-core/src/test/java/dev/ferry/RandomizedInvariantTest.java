package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.pool.ConnectionPool;
import dev.ferry.testkit.StubConnection;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A randomized run, bounded in time and seeded (the seed is printed, and named in every failure; rerun one with
 * {@code -Dferry.seed=<seed>}): borrowers at random priorities and lanes with random hold times, a chaos thread
 * that resizes the pool, evicts, soft-evicts and turns connect and query faults on and off, on the stub driver.
 * (CRITICAL callers through the lane's view are not counted in the lane: CRITICAL skips lanes, by design.)
 * Invariants are checked all along by a monitor, not only at the end: a connection is never lent to two borrowers
 * at once, the database never sees more connections than the largest maximumPoolSize set plus the reserve, a lane
 * never holds more than its cap, every borrow ends (served, or an SQLException) within connectionTimeout and a
 * margin; and at the end the pool's counters agree with each other and with the database, nothing leaked.
 */
class RandomizedInvariantTest {

    private static final int MAX_SIZE = 12;
    private static final int RESERVE = 2;
    private static final int LANE_CAP = 3;

    @ParameterizedTest(name = "minimumIdle={0}, connectionTimeout={1}ms")
    @CsvSource({"0, 250", "1, 1000", "6, 500"})
    void invariantsHoldThroughARandomRun(int minimumIdle, long timeoutMs) throws Exception {
        long seed = Long.getLong("ferry.seed", System.nanoTime());
        String about = "seed " + seed + " (rerun: -Dferry.seed=" + seed + ")";
        System.out.println("RandomizedInvariantTest minimumIdle=" + minimumIdle + ": " + about);
        Random chaosRandom = new Random(seed);
        StubDatabase db = StubDatabase.create();
        AtomicInteger doubleLends = new AtomicInteger();
        AtomicInteger laneHeld = new AtomicInteger();
        AtomicInteger lanePeak = new AtomicInteger();
        AtomicLong slowest = new AtomicLong();
        AtomicLong served = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(db.url())
                .driverClassName("dev.ferry.testkit.StubDriver").maximumPoolSize(8).minimumIdle(minimumIdle)
                .reserve(RESERVE).lane("reports", 0, LANE_CAP).connectionTimeout(Duration.ofMillis(timeoutMs))
                .validationTimeout(Duration.ofMillis(250)).initializationFailTimeout(Duration.ofSeconds(5)).build())) {
            ConnectionPool pool = ds.unwrap(ConnectionPool.class);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 48; t++) {
                Random random = new Random(seed + t);
                Thread th = new Thread(() -> {
                    Object me = new Object();
                    while (running.get()) {
                        boolean viaLane = random.nextInt(10) == 0; // the lane's view
                        int p = random.nextInt(10);
                        Priority priority = p == 0 ? Priority.CRITICAL : p < 3 ? Priority.BULK : Priority.NORMAL;
                        // A CRITICAL caller through the lane's view skips the lane, by design: it is not counted there.
                        boolean inLane = viaLane && priority != Priority.CRITICAL;
                        long start = System.nanoTime();
                        Connection c;
                        try {
                            c = viaLane ? ds.lane("reports").forPriority(priority).getConnection()
                                    : ds.getConnection(priority);
                        } catch (SQLException e) {
                            refused.incrementAndGet();
                            slowest.accumulateAndGet(System.nanoTime() - start, Math::max);
                            continue;
                        } catch (RuntimeException | Error e) {
                            unexpected.add(e);
                            continue;
                        }
                        slowest.accumulateAndGet(System.nanoTime() - start, Math::max);
                        served.incrementAndGet();
                        if (inLane) {
                            lanePeak.accumulateAndGet(laneHeld.incrementAndGet(), Math::max);
                        }
                        StubConnection physical;
                        try {
                            physical = c.unwrap(StubConnection.class);
                        } catch (SQLException e) {
                            unexpected.add(e);
                            continue;
                        }
                        if (!physical.holder.compareAndSet(null, me)) {
                            doubleLends.incrementAndGet();
                        }
                        try (Statement s = c.createStatement()) {
                            s.execute("SELECT 1");
                        } catch (SQLException e) {
                            // an injected query fault: the connection is evicted
                        }
                        LockSupport.parkNanos(random.nextInt(300_000));
                        physical.holder.compareAndSet(me, null);
                        if (inLane) {
                            laneHeld.decrementAndGet();
                        }
                        try {
                            c.close();
                        } catch (SQLException e) {
                            unexpected.add(e);
                        }
                    }
                }, "random-borrower-" + t);
                th.setDaemon(true);
                th.start();
                threads.add(th);
            }
            Thread monitor = new Thread(() -> {
                while (running.get()) {
                    if (db.open.get() > MAX_SIZE + RESERVE) {
                        violations.add("open " + db.open.get() + " > " + (MAX_SIZE + RESERVE));
                    }
                    if (laneHeld.get() > LANE_CAP) {
                        violations.add("lane holds " + laneHeld.get() + " > cap " + LANE_CAP);
                    }
                    LockSupport.parkNanos(200_000);
                }
            }, "random-monitor");
            monitor.setDaemon(true);
            monitor.start();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            while (System.nanoTime() < end) { // the chaos thread: this one
                switch (chaosRandom.nextInt(6)) {
                    case 0 -> {
                        // Never below minimumIdle (Ferry refuses that as a contradiction), and always above the
                        // lane's cap: a cap at or above the budget does not bind, and LaneBudget documents that
                        // when it starts to bind again the lane may hold more than its cap for a while.
                        int low = Math.max(LANE_CAP + 1, minimumIdle);
                        ds.setMaximumPoolSize(low + chaosRandom.nextInt(MAX_SIZE - low + 1));
                    }
                    case 1 -> pool.softEvictConnections();
                    case 2 -> db.connectFailureRate = chaosRandom.nextInt(3) == 0 ? 0.3 : 0;
                    case 3 -> db.executeFailureRate = chaosRandom.nextInt(3) == 0 ? 0.05 : 0;
                    default -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(chaosRandom.nextInt(40)));
            }
            running.set(false);
            for (Thread th : threads) {
                th.join(TimeUnit.SECONDS.toMillis(30));
                assertThat(th.isAlive()).as("%s: %s never ended", about, th.getName()).isFalse();
            }
            monitor.join(5000);
            db.connectFailureRate = 0;
            db.executeFailureRate = 0;
            ds.setMaximumPoolSize(8);

            assertThat(unexpected).as(about + ": only SQLExceptions, from getConnection only").isEmpty();
            assertThat(violations).as(about + ": invariants broken during the run").isEmpty();
            assertThat(doubleLends.get()).as(about + ": connections lent to two borrowers at once").isZero();
            assertThat(db.peakOpen.get()).as(about + ": most physical connections at once")
                    .isLessThanOrEqualTo(MAX_SIZE + RESERVE);
            assertThat(lanePeak.get()).as(about + ": most connections the lane held").isLessThanOrEqualTo(LANE_CAP);
            assertThat(TimeUnit.NANOSECONDS.toMillis(slowest.get())).as(about + ": slowest getConnection")
                    .isLessThan(timeoutMs + 2000);
            assertThat(served.get()).as(about).isPositive();
            System.out.println("RandomizedInvariantTest minimumIdle=" + minimumIdle + ": " + served.get()
                    + " served, " + refused.get() + " refused, peak " + db.peakOpen.get() + " connections, lane peak "
                    + lanePeak.get() + ", " + db.opened.get() + " opened in all");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(pool.activeConnections()).as(about).isZero();
                assertThat(pool.waitingThreads()).as(about).isZero();
                assertThat(pool.totalConnections()).as(about + ": total = idle").isEqualTo(pool.idleConnections());
                assertThat(db.open.get()).as(about + ": the database sees what the pool holds")
                        .isEqualTo(pool.totalConnections());
                assertThat(pool.totalConnections()).as(about).isBetween(minimumIdle, 8);
            });
        }
        assertThat(db.open.get()).as(about + ": all closed with the pool").isZero();
    }
}
