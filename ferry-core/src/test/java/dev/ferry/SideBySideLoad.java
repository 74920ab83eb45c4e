package dev.ferry;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Many callers on several pools at once (Ferry and HikariCP, say), all meeting the same fault at the same moment.
 * Each caller borrows, runs one operation and returns, in a loop: three reads ({@code SELECT 1}) to one write (one
 * insert, in its own transaction, of a row keyed by a fresh request id). Per pool it keeps what users feel (errors,
 * the slowest call, how long after the fault ended the first call succeeded) and what must never happen to data:
 * a write acknowledged but not in the table, a write reported failed but in it. A write's commit cut off by the
 * fault is "unknown" (SQLState 08007 from Ferry; a connection error on commit from a pool that cannot tell).
 */
final class SideBySideLoad implements AutoCloseable {

    static final String TABLE = "ferry_fault_writes";
    private static final int BUCKETS = 30_000; // 5 minutes of 10 ms
    private static final long BUCKET_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** One pool's figures. */
    static final class Figures {
        final String pool;
        final AtomicLong ok = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        /** When each failed call started (nanoTime): few, kept to count those after the fault ended. */
        final ConcurrentLinkedQueue<Long> failureStarts = new ConcurrentLinkedQueue<>();
        /** Per 10 ms of start time since {@link #origin}: the earliest end of a successful call started then. */
        final java.util.concurrent.atomic.AtomicLongArray okEnds = new java.util.concurrent.atomic.AtomicLongArray(
                BUCKETS);
        final long origin = System.nanoTime();

        {
            for (int i = 0; i < BUCKETS; i++) {
                okEnds.set(i, Long.MAX_VALUE);
            }
        }
        final AtomicLong slowestNanos = new AtomicLong();
        final Map<String, String> writes = new ConcurrentHashMap<>(); // request id -> acked | failed | unknown
        final ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        final Set<String> errorKinds = ConcurrentHashMap.newKeySet();
        volatile long lost = -1;
        volatile long ghosts = -1;

        Figures(String pool) {
            this.pool = pool;
        }

        long count(String outcome) {
            return writes.values().stream().filter(outcome::equals).count();
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "%s: %d ok, %d errors (%d after the fault ended), slowest "
                            + "call %d ms, first success %s "
                            + "after the fault ended; writes acked %d, failed %d, unknown %d, lost %d, failed-but-present %d; "
                            + "errors seen: %s", pool, ok.get(), errors.get(), errorsAfterFault(),
                    TimeUnit.NANOSECONDS.toMillis(slowestNanos.get()), recoveryMillis() < 0 ? "never"
                            : recoveryMillis() + " ms", count("acked"), count("failed"), count("unknown"), lost,
                    ghosts, errorKinds);
        }

        /**
         * From the end of the fault to the end of the first successful call that started after it (to within the
         * 10 ms of a start bucket, rounded up: a call that started in the bucket holding the fault's end is not
         * counted); -1 if none.
         */
        long recoveryMillis() {
            long first = Long.MAX_VALUE;
            for (int i = bucket(faultEnded) + 1; i < BUCKETS; i++) {
                first = Math.min(first, okEnds.get(i));
            }
            return first == Long.MAX_VALUE ? -1 : TimeUnit.NANOSECONDS.toMillis(Math.max(0, first - faultEnded));
        }

        /** Failed calls that started after the fault ended: what the pool, not the fault, cost. */
        long errorsAfterFault() {
            return failureStarts.stream().filter(t -> t - faultEnded >= 0).count();
        }

        int bucket(long nanos) {
            return (int) Math.max(0, Math.min(BUCKETS - 1, (nanos - origin) / BUCKET_NANOS));
        }

        volatile long faultEnded;
    }

    /**
     * Ferry and HikariCP with the same settings on {@code url}, tagged by application_name
     * ({@code <app>-ferry}, {@code <app>-hikari}) so their backends can be found.
     */
    static Map<String, DataSource> ferryAndHikari(String app, String url, int size, int minimumIdle,
            java.time.Duration timeout) {
        return ferryAndHikari(app, url, size, minimumIdle, timeout, false);
    }

    /**
     * As above; with {@code lane}, Ferry also has a lane "reports" (minimum 1, cap 3), and a tenth as many callers
     * again run in it, as a third entry, {@code ferry-lane}, on the same pool.
     */
    static Map<String, DataSource> ferryAndHikari(String app, String url, int size, int minimumIdle,
            java.time.Duration timeout, boolean lane) {
        Map<String, DataSource> pools = new LinkedHashMap<>();
        FerryConfig.Builder b = FerryConfig.builder().jdbcUrl(url)
                .dataSourceProperty("ApplicationName", app + "-ferry").poolName(app + "-ferry").maximumPoolSize(size)
                .minimumIdle(minimumIdle).connectionTimeout(timeout);
        if (lane) {
            b.lane("reports", 1, 3);
        }
        FerryDataSource ferry = new FerryDataSource(b.build());
        pools.put("ferry", ferry);
        if (lane) {
            pools.put("ferry-lane", ferry.lane("reports"));
        }
        com.zaxxer.hikari.HikariConfig h = new com.zaxxer.hikari.HikariConfig();
        h.setJdbcUrl(url);
        h.addDataSourceProperty("ApplicationName", app + "-hikari");
        h.setPoolName(app + "-hikari");
        h.setMaximumPoolSize(size);
        h.setMinimumIdle(minimumIdle);
        h.setConnectionTimeout(timeout.toMillis());
        pools.put("hikari", new com.zaxxer.hikari.HikariDataSource(h));
        return pools;
    }

    static void closeAll(Map<String, DataSource> pools) throws Exception {
        for (DataSource ds : pools.values()) {
            if (ds instanceof AutoCloseable closeable) { // a lane view closes with its pool
                closeable.close();
            }
        }
    }

    private final Map<String, Figures> figures = new LinkedHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);

    /** Starts {@code callers} callers on each pool (a tenth of that on a lane entry). */
    SideBySideLoad(Map<String, DataSource> pools, int callers) throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (request_id uuid PRIMARY KEY, pool text NOT NULL)");
            s.execute("TRUNCATE " + TABLE); // each run checks its own rows, and the table does not grow run to run
        }
        pools.forEach((name, ds) -> {
            Figures f = new Figures(name);
            figures.put(name, f);
            int n = name.endsWith("-lane") ? Math.max(1, callers / 10) : callers; // a lane: a tenth, within its cap
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(() -> loop(ds, f), name + "-caller-" + i);
                t.setDaemon(true);
                threads.add(t);
            }
        });
        threads.forEach(Thread::start);
    }

    Map<String, Figures> figures() {
        return figures;
    }

    long okSoFar() {
        return figures.values().stream().mapToLong(f -> f.ok.get()).min().orElse(0);
    }

    /** Marks the end of the fault now: recovery is measured from here. */
    void faultEnded() {
        faultEnded(System.nanoTime());
    }

    /** Marks the end of the fault at {@code now} (a nanoTime reading, maybe in the past). */
    void faultEnded(long now) {
        figures.values().forEach(f -> f.faultEnded = now);
    }

    /** Stops the callers, then checks every write against the table. */
    Map<String, Figures> finish() throws Exception {
        running.set(false);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " still running 60 s after the load stopped: a hung caller");
            }
        }
        Set<String> present = new HashSet<>();
        try (Connection c = Postgres.admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT request_id::text FROM " + TABLE)) {
            while (rs.next()) {
                present.add(rs.getString(1));
            }
        }
        for (Figures f : figures.values()) {
            long lost = 0;
            long ghosts = 0;
            for (Map.Entry<String, String> w : f.writes.entrySet()) {
                if (w.getValue().equals("acked") && !present.contains(w.getKey())) {
                    lost++;
                } else if (w.getValue().equals("failed") && present.contains(w.getKey())) {
                    ghosts++;
                }
            }
            f.lost = lost;
            f.ghosts = ghosts;
        }
        return figures;
    }

    @Override
    public void close() {
        running.set(false);
    }

    private void loop(DataSource ds, Figures f) {
        while (running.get()) {
            boolean write = ThreadLocalRandom.current().nextInt(4) == 0;
            long start = System.nanoTime();
            boolean ok = write ? write(ds, f) : read(ds, f);
            long end = System.nanoTime();
            f.slowestNanos.accumulateAndGet(end - start, Math::max);
            if (ok) {
                f.ok.incrementAndGet();
                f.okEnds.accumulateAndGet(f.bucket(start), end, Math::min);
            } else {
                f.errors.incrementAndGet();
                f.failureStarts.add(start);
                try {
                    Thread.sleep(5); // a caller backing off a little, not spinning against a dead server
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static boolean read(DataSource ds, Figures f) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            if (!c.getAutoCommit()) {
                c.commit();
            }
            return true;
        } catch (SQLException e) {
            f.errorKinds.add(kind(e));
            return false;
        } catch (RuntimeException e) {
            f.unexpected.add(e);
            return false;
        }
    }

    private static boolean write(DataSource ds, Figures f) {
        String id = UUID.randomUUID().toString();
        Connection c;
        try {
            c = ds.getConnection();
        } catch (SQLException e) {
            f.errorKinds.add(kind(e));
            f.writes.put(id, "failed");
            return false;
        } catch (RuntimeException e) {
            f.unexpected.add(e);
            return false;
        }
        String outcome = "failed";
        try {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE + " VALUES (?::uuid, ?)")) {
                ps.setString(1, id);
                ps.setString(2, f.pool);
                ps.executeUpdate();
            }
            try {
                c.commit();
                outcome = "acked";
            } catch (SQLException e) {
                f.errorKinds.add(kind(e));
                String state = e.getSQLState();
                outcome = "08007".equals(state) || (!f.pool.startsWith("ferry") && state != null
                        && (state.startsWith("08") || state.startsWith("57P"))) ? "unknown" : "failed";
            }
        } catch (SQLException e) {
            f.errorKinds.add(kind(e));
        } catch (RuntimeException e) {
            f.unexpected.add(e);
        } finally {
            try {
                c.close();
            } catch (SQLException | RuntimeException ignored) {
                // the outcome is decided
            }
        }
        f.writes.put(id, outcome);
        return outcome.equals("acked");
    }

    private static String kind(SQLException e) {
        return e.getClass().getSimpleName() + "(" + e.getSQLState() + ")";
    }
}
