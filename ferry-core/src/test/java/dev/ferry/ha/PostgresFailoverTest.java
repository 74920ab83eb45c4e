package dev.ferry.ha;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.PoolEvent;
import dev.ferry.RecordingListener;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Failover on a real primary and synchronous streaming replica ({@link FailoverPair}): a mixed load of writes
 * (transactions of one insert, each row with its own id) and reads ({@code reads()}) runs through Ferry while the
 * primary is stopped at once (as in a crash) and, a second later, the replica is promoted, as a cluster manager
 * would. Checked: reads keep flowing from the replica throughout; writes resume on the promoted replica within 5 s
 * of the promotion; every write acknowledged to its caller is on the new primary, every write reported failed is
 * not, and a commit cut off by the crash is reported as outcome unknown (SQLState 08007), never as a plain
 * failure; one {@code Failover} event names both hosts. The measured outage per operation type is printed.
 */
class PostgresFailoverTest {

    private static final long NO_TIME = Long.MIN_VALUE;

    /** Each operation's end: when it ended and whether it succeeded. */
    private record Op(long endNanos, boolean ok) {
    }

    @ParameterizedTest(name = "minimumIdle={0}, connectionTimeout={1}ms, autoCommit={2}")
    @CsvSource({"0, 2000, true", "1, 5000, false"})
    void writesFollowThePromotedReplicaAndNoAcknowledgedWriteIsLost(int minimumIdle, long connectionTimeoutMs,
            boolean autoCommit) throws Exception {
        try (FailoverPair pair = FailoverPair.up()) {
            try (Connection c = DriverManager.getConnection(FailoverPair.PRIMARY_URL);
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE failover_writes (id bigint PRIMARY KEY, writer int NOT NULL)");
            }
            RecordingListener events = new RecordingListener();
            Map<Long, String> outcome = new ConcurrentHashMap<>(); // id -> acked | failed | unknown
            ConcurrentLinkedQueue<Op> writes = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Op> reads = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Throwable> surprises = new ConcurrentLinkedQueue<>();
            AtomicLong ids = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            long maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(connectionTimeoutMs);
            AtomicLong longestCall = new AtomicLong();
            try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(FailoverPair.PRIMARY_URL)
                    .replica(FailoverPair.REPLICA_URL).maximumPoolSize(6).minimumIdle(minimumIdle)
                    .autoCommit(autoCommit).connectionTimeout(Duration.ofMillis(connectionTimeoutMs))
                    .listener(events).build())) {
                List<Thread> threads = new ArrayList<>();
                CountDownLatch started = new CountDownLatch(8);
                for (int w = 0; w < 4; w++) {
                    int writer = w;
                    threads.add(start("writer-" + w, () -> {
                        started.countDown();
                        while (!stop.get()) {
                            long id = ids.incrementAndGet();
                            long t0 = System.nanoTime();
                            String result = write(ds, id, writer, autoCommit, surprises);
                            long t1 = System.nanoTime();
                            longestCall.accumulateAndGet(t1 - t0, Math::max);
                            outcome.put(id, result);
                            writes.add(new Op(t1, result.equals("acked")));
                            if (!result.equals("acked")) {
                                pause(20); // a caller backing off, not a busy loop against a down server
                            }
                        }
                    }));
                }
                for (int r = 0; r < 4; r++) {
                    threads.add(start("reader-" + r, () -> {
                        started.countDown();
                        while (!stop.get()) {
                            long t0 = System.nanoTime();
                            boolean ok = read(ds, surprises);
                            long t1 = System.nanoTime();
                            longestCall.accumulateAndGet(t1 - t0, Math::max);
                            reads.add(new Op(t1, ok));
                            if (!ok) {
                                pause(20);
                            }
                        }
                    }));
                }
                started.await();
                pause(1500);
                long crash = System.nanoTime();
                pair.stopPrimary();
                pause(1000); // the cluster manager notices and decides
                long promoteStart = System.nanoTime();
                pair.promoteReplica();
                long promoted = System.nanoTime();
                long deadline = promoted + TimeUnit.SECONDS.toNanos(15);
                while (System.nanoTime() < deadline && okSince(writes, promoted) < 200) {
                    pause(50);
                }
                pause(500);
                stop.set(true);
                for (Thread t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(30));
                }

                long resumed = firstOkAfter(writes, promoted);
                Outage w = outage(writes, crash);
                Outage r = outage(reads, crash);
                long acked = outcome.values().stream().filter("acked"::equals).count();
                long failed = outcome.values().stream().filter("failed"::equals).count();
                long unknown = outcome.values().stream().filter("unknown"::equals).count();
                System.out.printf("failover (minimumIdle=%d, connectionTimeout=%dms, autoCommit=%s): promotion took "
                                + "%dms; writes: longest gap without a success %dms, %d failed, first success %dms "
                                + "after the promotion returned; reads: longest gap %dms, %d failed; writes acked "
                                + "%d, failed %d, outcome unknown %d; longest call %dms%n",
                        minimumIdle, connectionTimeoutMs, autoCommit, ms(promoted - promoteStart), ms(w.longestGap),
                        w.failures, resumed == NO_TIME ? -1 : ms(resumed - promoted), ms(r.longestGap), r.failures,
                        acked, failed, unknown, ms(longestCall.get()));

                assertThat(surprises).as("every failure is an SQLException").isEmpty();
                assertThat(resumed).as("writes resumed after the promotion").isNotEqualTo(NO_TIME);
                assertThat(ms(resumed - promoted)).as("writes resume within 5 s of the promotion")
                        .isLessThanOrEqualTo(5000);
                assertThat(w.failures).as("writes failed while there was no primary").isPositive();
                assertThat(r.failures).as("reads keep flowing from the replica").isZero();
                assertThat(ms(r.longestGap)).as("no read waited through the outage").isLessThan(1000);
                assertThat(longestCall.get()).as("no caller waited much beyond connectionTimeout")
                        .isLessThan(maxWaitNanos + TimeUnit.SECONDS.toNanos(3));
                assertThat(events.of(PoolEvent.Failover.class)).singleElement().satisfies(e -> {
                    assertThat(e.from()).contains(":5434/");
                    assertThat(e.to()).contains(":5435/");
                    assertThat(e.outage()).isPositive();
                });
            }

            Set<Long> present = new HashSet<>();
            try (Connection c = DriverManager.getConnection(FailoverPair.REPLICA_URL);
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM failover_writes")) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
            List<Long> lost = new ArrayList<>();
            List<Long> ghost = new ArrayList<>();
            outcome.forEach((id, result) -> {
                if (result.equals("acked") && !present.contains(id)) {
                    lost.add(id);
                } else if (result.equals("failed") && present.contains(id)) {
                    ghost.add(id);
                }
            });
            assertThat(lost).as("acknowledged writes missing on the new primary").isEmpty();
            assertThat(ghost).as("writes reported failed that are on the new primary").isEmpty();
            assertThat(present).as("only rows of this run").allSatisfy(id -> assertThat(outcome).containsKey(id));
        }
    }

    /** One insert in its own transaction; acked only when commit returned. */
    private static String write(FerryDataSource ds, long id, int writer, boolean poolAutoCommit,
            ConcurrentLinkedQueue<Throwable> surprises) {
        Connection c;
        try {
            c = ds.getConnection();
        } catch (SQLException e) {
            return "failed";
        } catch (RuntimeException e) {
            surprises.add(e);
            return "failed";
        }
        try {
            if (poolAutoCommit) {
                c.setAutoCommit(false);
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO failover_writes (id, writer) VALUES (?, ?)")) {
                ps.setLong(1, id);
                ps.setInt(2, writer);
                ps.executeUpdate();
            }
            try {
                c.commit();
            } catch (SQLException e) {
                return "08007".equals(e.getSQLState()) ? "unknown" : "failed";
            }
            return "acked";
        } catch (SQLException e) {
            return "failed"; // before commit: the server rolls the transaction back
        } catch (RuntimeException e) {
            surprises.add(e);
            return "failed";
        } finally {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the outcome is decided; a broken connection is the pool's to retire
            }
        }
    }

    private static boolean read(FerryDataSource ds, ConcurrentLinkedQueue<Throwable> surprises) {
        try (Connection c = ds.reads().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM failover_writes WHERE id <= 100")) {
            rs.next();
            if (!c.getAutoCommit()) {
                c.rollback();
            }
            return true;
        } catch (SQLException e) {
            return false;
        } catch (RuntimeException e) {
            surprises.add(e);
            return false;
        }
    }

    private record Outage(long longestGap, long failures) {
    }

    /** From the crash on: the longest time without a successful operation, and the failed operations. */
    private static Outage outage(ConcurrentLinkedQueue<Op> ops, long crash) {
        List<Op> sorted = new ArrayList<>(ops);
        sorted.sort((a, b) -> Long.compare(a.endNanos, b.endNanos));
        long last = crash;
        long longest = 0;
        long failures = 0;
        for (Op op : sorted) {
            if (op.endNanos < crash) {
                continue;
            }
            if (op.ok) {
                longest = Math.max(longest, op.endNanos - last);
                last = op.endNanos;
            } else {
                failures++;
            }
        }
        return new Outage(longest, failures);
    }

    private static long firstOkAfter(ConcurrentLinkedQueue<Op> ops, long t) {
        long first = Long.MAX_VALUE;
        for (Op op : ops) {
            if (op.ok && op.endNanos >= t) {
                first = Math.min(first, op.endNanos);
            }
        }
        return first == Long.MAX_VALUE ? NO_TIME : first;
    }

    private static long okSince(ConcurrentLinkedQueue<Op> ops, long t) {
        return ops.stream().filter(op -> op.ok && op.endNanos >= t).count();
    }

    private static Thread start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.start();
        return t;
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
