package dev.ferry.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.batch.BatchStats;
import dev.ferry.batch.BatchedLookup;
import dev.ferry.batch.BatchedWriter;
import dev.ferry.batch.GroupCommit;
import dev.ferry.batch.TransactionBatch;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.postgresql.PGConnection;

/**
 * Batching against a real PostgreSQL server, side by side with HikariCP doing one statement per request on a
 * pool of the same size. Three cases, from issue 3:
 * <ol>
 *   <li>{@code lookup}: N concurrent callers (default 10,000 virtual threads), each reading one row by id, again
 *       and again for the measured window; then 10 callers each asking for 256 keys at once ({@code loadMany}),
 *       and the plain-JDBC ceiling (see {@link #ceiling}) in the same process, with Ferry's share of it;
 *   <li>{@code write}: N concurrent callers (default 1,000), each inserting one row at a time; COPY's rate is
 *       shown as the ceiling;
 *   <li>{@code idle}: one caller, one lookup at a time: the latency the batcher adds to a pooled query.
 * </ol>
 *
 * <pre>
 * java -cp ferry-bench/target/benchmarks.jar dev.ferry.bench.BatchingBench \
 *     --url 'jdbc:postgresql://127.0.0.1:5432/test?user=postgres' --case all --pool-size 10
 * </pre>
 * Needs JDK 21+ for virtual threads (falls back to 256 platform threads).
 */
public final class BatchingBench {

    private static final int ROWS = 100_000;

    private final String url;
    private final int poolSize;
    private final int seconds;
    private final Integer inFlight;
    private final Integer batchSize;

    private BatchingBench(String url, int poolSize, int seconds, Integer inFlight, Integer batchSize) {
        this.url = url;
        this.poolSize = poolSize;
        this.seconds = seconds;
        this.inFlight = inFlight;
        this.batchSize = batchSize;
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
        String which = "all";
        int poolSize = 10;
        int lookups = 10_000;
        int writers = 1_000;
        int seconds = 10;
        Integer inFlight = null;
        Integer batchSize = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--url" -> url = args[++i];
                case "--case" -> which = args[++i];
                case "--pool-size" -> poolSize = Integer.parseInt(args[++i]);
                case "--lookups" -> lookups = Integer.parseInt(args[++i]);
                case "--writers" -> writers = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--in-flight" -> inFlight = Integer.parseInt(args[++i]);
                case "--batch-size" -> batchSize = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; allowed: --url, "
                        + "--case lookup|lookup-ferry|lookup-many|lookup-pools|write|idle|group|all, --pool-size, --lookups, --writers, --seconds, --in-flight, --batch-size");
            }
        }
        BatchingBench bench = new BatchingBench(url, poolSize, seconds, inFlight, batchSize);
        bench.prepare();
        System.out.printf(Locale.ROOT, "PostgreSQL batching bench: pool size %d (both pools), Ferry maxInFlight %s, "
                + "maxBatchSize %s; %d s measured after 3 s warm-up; %d cores, JDK %s%n", poolSize,
                inFlight == null ? "= pool size" : inFlight, batchSize == null ? "default" : batchSize, seconds,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        if (which.equals("all") || which.equals("lookup")) {
            bench.lookups(lookups);
        }
        if (which.equals("lookup-ferry")) { // Ferry's one-key lookups alone: for a profiler
            bench.ferryLookups(lookups);
        }
        if (which.equals("lookup-pools")) {
            bench.lookupPoolSizes(lookups);
        }
        if (which.equals("lookup-many")) { // loadMany alone, against the ceiling: for a profiler
            bench.loadManyAlone();
        }
        if (which.equals("all") || which.equals("write")) {
            bench.writes(writers);
        }
        if (which.equals("all") || which.equals("idle")) {
            bench.idle();
        }
        if (which.equals("all") || which.equals("group")) {
            bench.groupCommit(writers);
        }
    }

    private void prepare() throws SQLException {
        try (Connection c = java.sql.DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_bench_users (id BIGINT PRIMARY KEY, name TEXT NOT NULL)");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_bench_users")) {
                rs.next();
                if (rs.getLong(1) != ROWS) {
                    s.execute("TRUNCATE ferry_bench_users");
                    s.execute("INSERT INTO ferry_bench_users SELECT g, 'user-' || g FROM generate_series(1, " + ROWS
                            + ") g");
                    s.execute("ANALYZE ferry_bench_users");
                }
            }
            s.execute("CREATE UNLOGGED TABLE IF NOT EXISTS ferry_bench_events (id BIGINT PRIMARY KEY, "
                    + "kind TEXT NOT NULL)");
            // Logged on purpose: group commit saves WAL flushes, which unlogged tables do not pay.
            s.execute("CREATE TABLE IF NOT EXISTS ferry_bench_orders (id BIGINT PRIMARY KEY, amount INT NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS ferry_bench_audit (order_id BIGINT PRIMARY KEY, amount INT NOT NULL)");
        }
    }

    private FerryDataSource ferry() {
        return new FerryDataSource(FerryConfig.builder().jdbcUrl(url).maximumPoolSize(poolSize)
                .poolName("bench-ferry").build());
    }

    private HikariDataSource hikari() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("bench-hikari");
        return new HikariDataSource(config);
    }

    /** One round's outcome. */
    record Round(double perSecond, Histogram latency, long statements) {
    }

    interface Request {
        void run(int i) throws Exception;
    }

    /**
     * {@code n} concurrent callers each repeating {@code request} for {@code seconds} after a warm-up; throughput
     * counts requests completed in the window, latency is per request.
     */
    private static Round sustained(int n, int warmupSeconds, int seconds, Request request) throws Exception {
        return sustained(callers(), n, warmupSeconds, seconds, request);
    }

    /** As above, on {@code executor} (shut down at the end). */
    private static Round sustained(ExecutorService executor, int n, int warmupSeconds, int seconds, Request request)
            throws Exception {
        Recorder recorder = new Recorder(3);
        AtomicLong done = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long measureFrom = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds);
        long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
        try {
            List<Future<?>> futures = new ArrayList<>(n);
            for (int t = 0; t < n; t++) {
                int index = t;
                futures.add(executor.submit((Callable<Void>) () -> {
                    long now;
                    while ((now = System.nanoTime()) < end) {
                        try {
                            request.run(index);
                        } catch (Exception e) {
                            errors.incrementAndGet();
                        }
                        long finished = System.nanoTime();
                        if (now >= measureFrom && finished < end) {
                            recorder.recordValue(finished - now);
                            done.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            executor.shutdown();
        }
        if (errors.get() > 0) {
            throw new IllegalStateException(errors.get() + " requests failed");
        }
        return new Round(done.get() / (double) seconds, recorder.getIntervalHistogram(), 0);
    }

    private static ExecutorService callers() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            return Executors.newFixedThreadPool(256);
        }
    }

    private static void print(String label, Round r, String unit, String extra) {
        System.out.printf(Locale.ROOT, "  %-34s %12.0f %s/s   p50 %8.2f ms   p99 %8.2f ms   %s%n", label, r.perSecond,
                unit, r.latency.getValueAtPercentile(50) / 1e6, r.latency.getValueAtPercentile(99) / 1e6, extra);
    }

    private void lookups(int n) throws Exception {
        System.out.printf(Locale.ROOT, "%n(a) %,d concurrent point lookups%n", n);
        String single = "SELECT id, name FROM ferry_bench_users WHERE id = ?";
        Round h;
        try (HikariDataSource ds = hikari()) {
            h = sustained(n, 3, seconds, i -> {
                try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(single)) {
                    ps.setLong(1, ThreadLocalRandom.current().nextLong(1, ROWS + 1));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                    }
                }
            });
        }
        Round f;
        BatchStats stats;
        try (FerryDataSource ds = ferry();
             BatchedLookup<Long, String> users = users(ds, inFlight != null ? inFlight : poolSize)) {
            f = oneKeyLookups(n, users);
            stats = users.stats();
        }
        Round many;
        try (FerryDataSource ds = ferry();
             BatchedLookup<Long, String> users = users(ds, inFlight != null ? inFlight : poolSize)) {
            many = pages(users);
        }
        double ceiling = ceiling();
        print("HikariCP, one query per request", h, "lookups", "one statement per lookup");
        print("Ferry, batched", f, "lookups", String.format(Locale.ROOT,
                "%.1f lookups per statement, batches up to %d", stats.efficiency(),
                stats.sizeHistogram().keySet().stream().mapToInt(Integer::intValue).max().orElse(0)));
        print("Ferry, loadMany of 256 keys", many, "lookups", CEILING_THREADS + " callers; latency per page");
        System.out.printf(Locale.ROOT, "  plain-JDBC ceiling: %,.0f lookups/s (%d platform threads, each its own "
                + "connection, a %d-key = ANY(?) query with a Long[] array, rows decoded)%n", ceiling,
                CEILING_THREADS, CEILING_KEYS);
        System.out.printf(Locale.ROOT, "  ferry/hikari throughput: %.1fx; ferry/ceiling: %.2f; loadMany/ceiling: "
                + "%.2f%n", f.perSecond / h.perSecond, f.perSecond / ceiling, many.perSecond / ceiling);
    }

    /** The bench's batched lookup of users by id, at most {@code maxInFlight} batches at once. */
    private BatchedLookup<Long, String> users(DataSource ds, int maxInFlight) {
        return BatchedLookup.<Long, String>builder(ds, Long.class)
                .sql("SELECT id, name FROM ferry_bench_users WHERE id IN (:keys)")
                .key(rs -> rs.getLong(1)).row(rs -> rs.getString(2))
                .maxInFlight(maxInFlight).maxBatchSize(batchSize != null ? batchSize : 256).build();
    }

    /** {@code n} callers each looking up one random id at a time. */
    private Round oneKeyLookups(int n, BatchedLookup<Long, String> users) throws Exception {
        return sustained(n, 3, seconds, i -> users.get(ThreadLocalRandom.current().nextLong(1, ROWS + 1)));
    }

    /** {@link #CEILING_THREADS} callers each asking for pages of {@link #CEILING_KEYS} random ids; in lookups/s. */
    private Round pages(BatchedLookup<Long, String> users) throws Exception {
        Round pages = sustained(CEILING_THREADS, 3, seconds, i -> users.loadMany(randomKeys()).get());
        return new Round(pages.perSecond * CEILING_KEYS, pages.latency, 0);
    }

    /** Ferry's one-key lookups alone, for a profiler (JFR) to see only them. */
    private void ferryLookups(int n) throws Exception {
        try (FerryDataSource ds = ferry();
             BatchedLookup<Long, String> users = users(ds, inFlight != null ? inFlight : poolSize)) {
            Round f = oneKeyLookups(n, users);
            print("Ferry, batched", f, "lookups", String.format(Locale.ROOT, "%.1f lookups per statement",
                    users.stats().efficiency()));
        }
    }

    /** Ferry's loadMany of 256 keys from 10 callers alone, then the ceiling. */
    private void loadManyAlone() throws Exception {
        try (FerryDataSource ds = ferry();
             BatchedLookup<Long, String> users = users(ds, inFlight != null ? inFlight : poolSize)) {
            Round many = pages(users);
            print("Ferry, loadMany of 256 keys", many, "lookups", CEILING_THREADS + " callers; latency per page");
            double ceiling = ceiling();
            System.out.printf(Locale.ROOT, "  plain-JDBC ceiling: %,.0f lookups/s; loadMany/ceiling: %.2f%n", ceiling,
                    many.perSecond / ceiling);
        }
    }

    /** Ferry's one-key lookups on pools of 1, 2, 4, 8 and 16 connections (maxInFlight = pool size). */
    private void lookupPoolSizes(int n) throws Exception {
        System.out.printf(Locale.ROOT, "%n%,d concurrent point lookups by pool size%n", n);
        for (int size : new int[] {1, 2, 4, 8, 16}) {
            try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(url).maximumPoolSize(size)
                    .poolName("bench-ferry-" + size).build());
                 BatchedLookup<Long, String> users = users(ds, size)) {
                Round f = oneKeyLookups(n, users);
                print("Ferry, pool of " + size, f, "lookups", String.format(Locale.ROOT, "%.1f lookups per statement",
                        users.stats().efficiency()));
            }
        }
    }

    private static final int CEILING_THREADS = 10;
    private static final int CEILING_KEYS = 256;

    private static List<Long> randomKeys() {
        List<Long> keys = new ArrayList<>(CEILING_KEYS);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int k = 0; k < CEILING_KEYS; k++) {
            keys.add(r.nextLong(1, ROWS + 1));
        }
        return keys;
    }

    /**
     * The honest ceiling for batched point lookups from Java, measured in the same process right after Ferry's
     * rounds, with the same timed loop ({@link #sustained}): plain pgjdbc, {@value #CEILING_THREADS} platform
     * threads each on its own connection, each running the same {@value #CEILING_KEYS}-key
     * {@code SELECT id, name ... WHERE id = ANY(?)} with a typed {@code Long[]}, rows decoded to objects. Lookups
     * per second (keys asked for, found or not).
     */
    private double ceiling() throws Exception {
        String sql = "SELECT id, name FROM ferry_bench_users WHERE id = ANY(?)";
        Connection[] connections = new Connection[CEILING_THREADS];
        PreparedStatement[] statements = new PreparedStatement[CEILING_THREADS];
        try {
            for (int t = 0; t < CEILING_THREADS; t++) {
                connections[t] = java.sql.DriverManager.getConnection(url);
                statements[t] = connections[t].prepareStatement(sql);
            }
            Round queries = sustained(Executors.newFixedThreadPool(CEILING_THREADS), CEILING_THREADS, 3, seconds, i -> {
                PreparedStatement ps = statements[i];
                ps.setArray(1, connections[i].createArrayOf("bigint", randomKeys().toArray(new Long[0])));
                List<Object[]> rows = new ArrayList<>(CEILING_KEYS);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Object[] {rs.getLong(1), rs.getString(2)});
                    }
                }
            });
            return queries.perSecond * CEILING_KEYS;
        } finally {
            for (Connection c : connections) {
                if (c != null) {
                    c.close(); // closes its statement too
                }
            }
        }
    }

    private void writes(int n) throws Exception {
        System.out.printf(Locale.ROOT, "%n(b) %,d concurrent single-row writers%n", n);
        String insert = "INSERT INTO ferry_bench_events (id, kind) VALUES (?, ?)";
        AtomicLong ids = new AtomicLong(System.nanoTime());
        Round h;
        try (HikariDataSource ds = hikari()) {
            truncateEvents(ds);
            h = sustained(n, 3, seconds, i -> {
                try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(insert)) {
                    ps.setLong(1, ids.incrementAndGet());
                    ps.setString(2, "event");
                    ps.executeUpdate();
                }
            });
        }
        Writes plainRun = ferryWrites(n, insert, ids, false);
        Writes arrayRun = ferryWrites(n, insert, ids, true);
        Round plain = plainRun.round();
        Round f = arrayRun.round();
        double copy;
        try (FerryDataSource ds = ferry()) {
            copy = copyRate(ds, 100_000, ids);
        }
        print("HikariCP, autocommit per request", h, "rows", "");
        print("Ferry, JDBC batches (postgresArrays off)", plain, "rows", String.format(Locale.ROOT,
                "%.1f rows per transaction", plainRun.rowsPerTransaction()));
        print("Ferry, one unnest statement per batch", f, "rows", String.format(Locale.ROOT,
                "%.1f rows per transaction", arrayRun.rowsPerTransaction()));
        System.out.printf(Locale.ROOT, "  COPY of 100,000 rows, one connection:  %12.0f rows/s%n", copy);
        System.out.printf(Locale.ROOT, "  ferry/hikari throughput: %.1fx (JDBC batches: %.1fx); ferry/COPY: %.2f "
                + "(JDBC batches: %.2f)%n", f.perSecond / h.perSecond, plain.perSecond / h.perSecond,
                f.perSecond / copy, plain.perSecond / copy);
    }

    /** A write round and its rows per transaction. */
    record Writes(Round round, double rowsPerTransaction) {
    }

    /** Ferry's batched writer on a plain URL, with or without PostgreSQL arrays. */
    private Writes ferryWrites(int n, String insert, AtomicLong ids, boolean arrays) throws Exception {
        try (FerryDataSource ds = ferry();
             BatchedWriter<Long> events = BatchedWriter.<Long>builder(ds).sql(insert)
                     .bind((ps, id) -> {
                         ps.setLong(1, id);
                         ps.setString(2, "event");
                     }).maxInFlight(inFlight != null ? inFlight : poolSize).postgresArrays(arrays)
                     .maxBatchSize(batchSize != null ? batchSize : 100).build()) {
            truncateEvents(ds);
            Round r = sustained(n, 3, seconds, i -> events.write(ids.incrementAndGet()));
            return new Writes(r, events.stats().efficiency());
        }
    }

    /** Two-statement transactions: HikariCP one transaction per caller; Ferry's group commit. */
    private void groupCommit(int n) throws Exception {
        System.out.printf(Locale.ROOT, "%n(d) %,d concurrent callers, each a two-statement transaction (logged tables)%n",
                n);
        String order = "INSERT INTO ferry_bench_orders (id, amount) VALUES (?, ?)";
        String audit = "INSERT INTO ferry_bench_audit (order_id, amount) VALUES (?, ?)";
        AtomicLong ids = new AtomicLong(System.nanoTime());
        Round h;
        try (HikariDataSource ds = hikari()) {
            truncate(ds, "ferry_bench_orders, ferry_bench_audit");
            h = sustained(n, 3, seconds, i -> {
                long id = ids.incrementAndGet();
                try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    try (PreparedStatement a = c.prepareStatement(order); PreparedStatement b = c.prepareStatement(audit)) {
                        a.setLong(1, id);
                        a.setInt(2, 1);
                        a.executeUpdate();
                        b.setLong(1, id);
                        b.setInt(2, 1);
                        b.executeUpdate();
                    }
                    c.commit();
                }
            });
        }
        Round f;
        BatchStats stats;
        try (FerryDataSource ds = ferry(); GroupCommit group = ds.groupCommit()
                .maxInFlight(inFlight != null ? inFlight : poolSize)
                .maxBatchSize(batchSize != null ? batchSize : 100).build()) {
            truncate(ds, "ferry_bench_orders, ferry_bench_audit");
            f = sustained(n, 3, seconds, i -> {
                long id = ids.incrementAndGet();
                group.execute(TransactionBatch.of(TransactionBatch.statement(order, id, 1),
                        TransactionBatch.statement(audit, id, 1)));
            });
            stats = group.stats();
        }
        print("HikariCP, one transaction per caller", h, "txns", "");
        print("Ferry, group commit (savepoints)", f, "txns", String.format(Locale.ROOT,
                "%.1f transactions per COMMIT", stats.efficiency()));
        System.out.printf(Locale.ROOT, "  ferry/hikari throughput: %.1fx%n", f.perSecond / h.perSecond);
    }

    private static void truncate(DataSource ds, String tables) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE " + tables);
        }
    }

    private static void truncateEvents(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE ferry_bench_events");
        }
    }

    private static double copyRate(DataSource ds, int rows, AtomicLong ids) throws Exception {
        StringBuilder data = new StringBuilder(rows * 24);
        for (int i = 0; i < rows; i++) {
            data.append(ids.incrementAndGet()).append("\tevent\n");
        }
        try (Connection c = ds.getConnection()) {
            long t0 = System.nanoTime();
            c.unwrap(PGConnection.class).getCopyAPI()
                    .copyIn("COPY ferry_bench_events (id, kind) FROM STDIN", new StringReader(data.toString()));
            return rows / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private void idle() throws Exception {
        System.out.printf(Locale.ROOT, "%n(c) one caller on an idle system: 20,000 sequential lookups%n");
        String single = "SELECT id, name FROM ferry_bench_users WHERE id = ?";
        try (FerryDataSource ds = ferry();
             BatchedLookup<Long, String> users = BatchedLookup.<Long, String>builder(ds, Long.class)
                     .sql("SELECT id, name FROM ferry_bench_users WHERE id IN (:keys)")
                     .key(rs -> rs.getLong(1)).row(rs -> rs.getString(2)).build()) {
            Histogram direct = new Histogram(3);
            Histogram batched = new Histogram(3);
            for (int i = 0; i < 40_000; i++) { // alternate, so both see the same conditions; first half warms up
                long id = ThreadLocalRandom.current().nextLong(1, ROWS + 1);
                long t0 = System.nanoTime();
                try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(single)) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                    }
                }
                long t1 = System.nanoTime();
                users.get(id);
                long t2 = System.nanoTime();
                if (i >= 20_000) {
                    direct.recordValue(t1 - t0);
                    batched.recordValue(t2 - t1);
                }
            }
            System.out.printf(Locale.ROOT, "  direct pooled query   p50 %7.1f us   p99 %7.1f us%n",
                    direct.getValueAtPercentile(50) / 1e3, direct.getValueAtPercentile(99) / 1e3);
            System.out.printf(Locale.ROOT, "  through the batcher   p50 %7.1f us   p99 %7.1f us%n",
                    batched.getValueAtPercentile(50) / 1e3, batched.getValueAtPercentile(99) / 1e3);
            System.out.printf(Locale.ROOT, "  added by batching at p50: %.1f us%n",
                    (batched.getValueAtPercentile(50) - direct.getValueAtPercentile(50)) / 1e3);
        }
    }
}
