package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.pool.ConnectionPool;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Waiters are served in the order they arrived, on platform threads and on virtual threads. */
class FairnessTest {

    @Test
    void waitersAreServedFirstComeFirstServedOnPlatformThreads() throws Exception {
        assertFifo(Executors.defaultThreadFactory());
    }

    @Test
    void waitersAreServedFirstComeFirstServedOnVirtualThreads() throws Exception {
        ThreadFactory virtual = VirtualThreads.factory();
        org.junit.jupiter.api.Assumptions.assumeTrue(virtual != null, "virtual threads need JDK 21+");
        assertFifo(virtual);
    }

    /**
     * Regression test for a lost wake-up: two threads hand one connection back and forth many times. If a return
     * ever fails to wake the waiter, the waiter sleeps beside an idle connection until it times out.
     */
    @Test
    void aWaiterIsNeverLeftSleepingBesideAnIdleConnection() throws Exception {
        StubDatabase db = StubDatabase.create();
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(db.url())
                .driverClassName("dev.ferry.testkit.StubDriver").maximumPoolSize(1)
                .connectionTimeout(Duration.ofSeconds(2)).validationTimeout(Duration.ofSeconds(1)).build())) {
            List<Future<Integer>> players = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                players.add(executor.submit(() -> {
                    int rounds = 0;
                    for (int i = 0; i < 10_000; i++) {
                        try (Connection c = ds.getConnection()) {
                            rounds++;
                        }
                    }
                    return rounds;
                }));
            }
            for (Future<Integer> player : players) {
                assertThat(player.get(60, TimeUnit.SECONDS)).isEqualTo(10_000);
            }
        } finally {
            executor.shutdownNow();
        }
    }

    private static void assertFifo(ThreadFactory threads) throws Exception {
        StubDatabase db = StubDatabase.create();
        int waiters = 8;
        ExecutorService executor = Executors.newCachedThreadPool(threads);
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(db.url())
                .driverClassName("dev.ferry.testkit.StubDriver").maximumPoolSize(1)
                .connectionTimeout(Duration.ofSeconds(30)).build())) {
            ConnectionPool pool = ds.unwrap(ConnectionPool.class);
            List<Integer> served = new CopyOnWriteArrayList<>();
            List<Future<?>> futures = new ArrayList<>();
            Connection held = ds.getConnection();
            for (int i = 0; i < waiters; i++) {
                int index = i;
                futures.add(executor.submit(() -> {
                    try (Connection c = ds.getConnection()) {
                        served.add(index);
                    }
                    return null;
                }));
                // Let each waiter queue before the next one arrives, so arrival order is known.
                await().atMost(Duration.ofSeconds(5)).until(() -> pool.waitingThreads() == index + 1);
            }
            held.close();
            for (Future<?> f : futures) {
                f.get(10, TimeUnit.SECONDS);
            }
            assertThat(served).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        } finally {
            executor.shutdownNow();
        }
    }
}
