package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.pool.ConnectionPool;
import dev.ferry.testkit.StubConnection;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Many borrowers, random hold times, random faults (failed connects, connections dying mid-query) on the stub
 * driver. Asserts the pool's invariants, not its speed: a connection is never lent to two borrowers at once,
 * the database never sees more than maximumPoolSize connections, every request is served or times out, and the
 * pool ends idle and full with nothing leaked.
 */
class StressTest {

    private static final int MAX = 8;

    @Test
    void invariantsHoldUnderContentionAndFaultsOnPlatformThreads() throws Exception {
        run(Executors.defaultThreadFactory(), 64, 400);
    }

    @Test
    void invariantsHoldUnderContentionAndFaultsOnVirtualThreads() throws Exception {
        ThreadFactory virtual = VirtualThreads.factory();
        org.junit.jupiter.api.Assumptions.assumeTrue(virtual != null, "virtual threads need JDK 21+");
        run(virtual, 1000, 40);
    }

    private static void run(ThreadFactory threads, int borrowers, int iterations) throws Exception {
        StubDatabase db = StubDatabase.create();
        db.connectFailureRate = 0.05;
        db.executeFailureRate = 0.01;
        AtomicLong attempts = new AtomicLong();
        AtomicLong served = new AtomicLong();
        AtomicLong timeouts = new AtomicLong();
        AtomicLong queryFaults = new AtomicLong();
        AtomicLong otherErrors = new AtomicLong();
        AtomicInteger doubleLends = new AtomicInteger();
        ExecutorService executor = Executors.newCachedThreadPool(threads);
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(db.url())
                .driverClassName("dev.ferry.testkit.StubDriver").maximumPoolSize(MAX).minimumIdle(MAX)
                .connectionTimeout(Duration.ofSeconds(2)).validationTimeout(Duration.ofSeconds(1))
                .initializationFailTimeout(Duration.ofSeconds(5)).build())) {
            ConnectionPool pool = ds.unwrap(ConnectionPool.class);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < borrowers; t++) {
                futures.add(executor.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    Object me = new Object();
                    for (int i = 0; i < iterations; i++) {
                        attempts.incrementAndGet();
                        Connection c;
                        try {
                            c = ds.getConnection();
                        } catch (SQLTransientConnectionException e) {
                            timeouts.incrementAndGet();
                            continue;
                        } catch (SQLException e) {
                            otherErrors.incrementAndGet();
                            continue;
                        }
                        served.incrementAndGet();
                        StubConnection physical = c.unwrap(StubConnection.class);
                        if (!physical.holder.compareAndSet(null, me)) {
                            doubleLends.incrementAndGet();
                        }
                        try (Statement s = c.createStatement()) {
                            s.execute("SELECT 1");
                        } catch (SQLException e) {
                            queryFaults.incrementAndGet();
                        }
                        LockSupport.parkNanos(random.nextLong(0, 200_000));
                        physical.holder.compareAndSet(me, null);
                        c.close();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }

            assertThat(doubleLends.get()).as("connections lent to two borrowers at once").isZero();
            assertThat(db.peakOpen.get()).as("most physical connections open at once").isBetween(1, MAX);
            assertThat(served.get() + timeouts.get() + otherErrors.get()).as("every request accounted for")
                    .isEqualTo(attempts.get()).isEqualTo((long) borrowers * iterations);
            assertThat(otherErrors.get()).isZero();
            assertThat(served.get()).isPositive();
            assertThat(queryFaults.get()).as("faults were injected").isPositive();
            assertThat(db.opened.get()).as("broken connections were replaced").isGreaterThan(MAX);

            db.connectFailureRate = 0;
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(pool.activeConnections()).isZero();
                assertThat(pool.waitingThreads()).isZero();
                assertThat(pool.idleConnections()).isEqualTo(MAX);
                assertThat(pool.totalConnections()).isEqualTo(MAX);
                assertThat(db.open.get()).as("no physical connection leaked").isEqualTo(MAX);
            });
        } finally {
            executor.shutdownNow();
        }
        assertThat(db.open.get()).as("all closed with the pool").isZero();
    }
}
