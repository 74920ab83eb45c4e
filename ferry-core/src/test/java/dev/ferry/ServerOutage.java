package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs 16 borrowers against a pool while the server goes away (every backend terminated, or a restart), and
 * checks what users care about: nobody waits past connectionTimeout, every failure is an SQLException, each dead
 * connection costs at most one error after the server is back, and new borrowers then succeed.
 */
final class ServerOutage {

    /** The outage itself; it returns once the server accepts connections again. */
    interface Outage {
        void run() throws Exception;
    }

    record Result(long succeeded, long failedDuring, long failedAfter, long maxWaitMs) {
    }

    private ServerOutage() {
    }

    static Result underLoad(FerryDataSource ds, Outage outage) throws Exception {
        FerryPool pool = ds.unwrap(FerryPool.class);
        long timeoutMs = ds.getConnectionTimeout();
        int max = pool.maximumPoolSize();
        ExecutorService executor = Executors.newFixedThreadPool(16);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean serverBack = new AtomicBoolean();
        AtomicLong ok = new AtomicLong();
        AtomicLong failedDuring = new AtomicLong();
        AtomicLong failedAfter = new AtomicLong();
        AtomicLong maxWaitNanos = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        try {
            List<Future<?>> load = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                load.add(executor.submit(() -> {
                    while (running.get()) {
                        long start = System.nanoTime();
                        boolean afterOutage = serverBack.get();
                        try (Connection c = ds.getConnection()) {
                            maxWaitNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                                rs.next();
                            }
                            if (!c.getAutoCommit()) {
                                c.commit();
                            }
                            ok.incrementAndGet();
                        } catch (SQLException e) {
                            maxWaitNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                            (afterOutage ? failedAfter : failedDuring).incrementAndGet();
                        } catch (RuntimeException | Error e) {
                            unexpected.add(e);
                        }
                    }
                    return null;
                }));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() > 200);
            outage.run();
            serverBack.set(true);
            long okAtReturn = ok.get();
            await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() > okAtReturn + 500);
            running.set(false);
            for (Future<?> f : load) {
                f.get(60, TimeUnit.SECONDS);
            }
            // A borrower that starts after the server is back gets a working connection at once.
            for (int i = 0; i < max * 2; i++) {
                try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT 'alive'")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("alive");
                    if (!c.getAutoCommit()) {
                        c.commit();
                    }
                }
            }
        } finally {
            running.set(false);
            executor.shutdownNow();
        }
        assertThat(unexpected).as("only SQLExceptions reach callers").isEmpty();
        long maxWaitMs = TimeUnit.NANOSECONDS.toMillis(maxWaitNanos.get());
        // Generous slack for a loaded 2-core machine; what it rules out is waiting a back-off or a dead socket out.
        assertThat(maxWaitMs).as("longest getConnection()").isLessThan(timeoutMs + 2_000);
        assertThat(failedAfter.get()).as("errors after the server was back: at most one per dead connection")
                .isLessThanOrEqualTo(max);
        Result result = new Result(ok.get(), failedDuring.get(), failedAfter.get(), maxWaitMs);
        System.out.println(ds.unwrap(FerryConfig.class).poolName() + ": " + result);
        return result;
    }
}
