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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.postgresql.PGConnection;

/**
 * Batching against a real PostgreSQL server, side by side with HikariCP doing one statement per request on a
 * pool of the same size. Three cases, from issue 3:
 * <ol>
 *   <li>{@code lookup}: N concurrent callers (default 10,000 virtual threads), each reading one row by id, again
 *       and again for the measured window; the same number of asynchronous callers ({@link #asyncLookups}); 10
 *       callers each asking for 256 keys at once ({@code loadMany}); the hand-off's CPU cost alone ({@link #handoffCpuNanos}); and
 *       the plain-JDBC ceiling ({@link #ceiling}) in the same process, with Ferry's share of it;
 *   <li>{@code write}: N concurrent callers (default 1,000), each inserting one row at a time, blocked and
 *       asynchronous; COPY's rate ({@link #copyRate}) and the plain-JDBC INSERT ceiling ({@link #insertCeiling})
 *       are the references;
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
                        + "--case lookup|lookup-ferry|lookup-async|lookup-handoff|lookup-many|lookup-pools|write|write-async|idle|group|all, --pool-size, --lookups, --writers, --seconds, --in-flight, --batch-size");
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
        if (which.equals("lookup-handoff")) { // the hand-off alone, then the ceiling and the estimate
            double handoff = bench.handoffCpuNanos(lookups);
            double ceiling = bench.ceiling();
            System.out.printf(Locale.ROOT, "  hand-off alone %.2f us of CPU per request; ceiling %,.0f lookups/s with "
                    + "%.0f%% of the machine busy; estimate for blocked callers %.2f of the ceiling%n", handoff / 1e3,
                    ceiling, bench.ceilingBusy * 100, bench.blockedCallersEstimate(ceiling, handoff) / ceiling);
        }
        if (which.equals("lookup-async")) { // asynchronous one-key callers alone, then the ceiling
            bench.asyncAlone(lookups);
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
        if (which.equals("write-async")) { // asynchronous array writes alone: for a profiler
            Round r = bench.ferryWrites(writers, "INSERT INTO ferry_bench_events (id, kind) VALUES (?, ?)",
                    new AtomicLong(System.nanoTime()), true, true).round();
            print("Ferry, unnest, asynchronous callers", r, "rows", "");
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
     * counts requests completed in the window; latency is that of every {@value #LATENCY_SAMPLE}th request of each
     * caller (a systematic sample of hundreds of thousands of requests).
     */
    private static Round sustained(int n, int warmupSeconds, int seconds, Request request) throws Exception {
        return sustained(callers(), n, warmupSeconds, seconds, request);
    }

    /**
     * As above, on {@code executor} (shut down at the end). The harness keeps out of what it measures: each caller
     * counts for itself and reads the clock once per request, and latency is sampled into striped recorders.
     * With one shared recorder and counter and every latency recorded, the harness took a quarter of the JVM's
     * samples in a 10,000-caller run (JFR), against a ceiling that pays it once per 256 keys.
     */
    private static Round sustained(ExecutorService executor, int n, int warmupSeconds, int seconds, Request request)
            throws Exception {
        Recorder[] recorders = new Recorder[RECORDER_STRIPES];
        for (int r = 0; r < RECORDER_STRIPES; r++) {
            recorders[r] = new Recorder(3);
        }
        long measureFrom = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds);
        long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
        long done = 0;
        long errors = 0;
        try {
            List<Future<long[]>> futures = new ArrayList<>(n);
            for (int t = 0; t < n; t++) {
                int index = t;
                Recorder recorder = recorders[t % RECORDER_STRIPES];
                futures.add(executor.submit(() -> {
                    long counted = 0;
                    long failed = 0;
                    long now = System.nanoTime();
                    while (now < end) {
                        try {
                            request.run(index);
                        } catch (Exception e) {
                            failed++;
                        }
                        long finished = System.nanoTime();
                        if (now >= measureFrom && finished < end && counted++ % LATENCY_SAMPLE == 0) {
                            recorder.recordValue(finished - now);
                        }
                        now = finished;
                    }
                    return new long[] {counted, failed};
                }));
            }
            for (Future<long[]> f : futures) {
                long[] counts = f.get(5, TimeUnit.MINUTES);
                done += counts[0];
                errors += counts[1];
            }
        } finally {
            executor.shutdown();
        }
        if (errors > 0) {
            throw new IllegalStateException(errors + " requests failed");
        }
        Histogram latency = new Histogram(3);
        for (Recorder r : recorders) {
            latency.add(r.getIntervalHistogram());
        }
        return new Round(done / (double) seconds, latency, 0);
    }

    private static final int LATENCY_SAMPLE = 8;
    private static final int RECORDER_STRIPES = 64;

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
        Round async;
        try (FerryDataSource ds = ferry();
             BatchedLookup<Long, String> users = users(ds, inFlight != null ? inFlight : poolSize)) {
            async = asyncLookups(n, users);
        }
        Round many;
        try (FerryDataSource ds = ferry();
             BatchedLookup<Long, String> users = users(ds, inFlight != null ? inFlight : poolSize)) {
            many = pages(users);
        }
        double handoff = handoffCpuNanos(n);
        double ceiling = ceiling();
        print("HikariCP, one query per request", h, "lookups", "one statement per lookup");
        print("Ferry, batched", f, "lookups", String.format(Locale.ROOT,
                "%.1f lookups per statement, batches up to %d", stats.efficiency(),
                stats.sizeHistogram().keySet().stream().mapToInt(Integer::intValue).max().orElse(0)));
        print("Ferry, batched, asynchronous callers", async, "lookups", "load(key), the next on completion");
        print("Ferry, loadMany of 256 keys", many, "lookups", CEILING_THREADS + " callers; latency per page");
        System.out.printf(Locale.ROOT, "  plain-JDBC ceiling: %,.0f lookups/s (%d platform threads, each its own "
                + "connection, a %d-key = ANY(?) query with a Long[] array, rows decoded)%n", ceiling,
                CEILING_THREADS, CEILING_KEYS);
        double bound = blockedCallersEstimate(ceiling, handoff);
        System.out.printf(Locale.ROOT, "  hand-off alone (%,d blocked callers, no database): %.2f us of CPU per request; the "
                + "ceiling kept %.0f%% of the machine busy; estimate for blocked callers: %.2f of the ceiling%n", n,
                handoff / 1e3, ceilingBusy * 100, bound / ceiling);
        System.out.printf(Locale.ROOT, "  blocked callers: ferry/hikari %.1fx, ferry/ceiling %.2f, ferry/estimate %.2f; "
                + "asynchronous callers: ferry/hikari %.1fx, ferry/ceiling %.2f; loadMany/ceiling: %.2f%n",
                f.perSecond / h.perSecond, f.perSecond / ceiling, f.perSecond / bound, async.perSecond / h.perSecond,
                async.perSecond / ceiling, many.perSecond / ceiling);
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

    /**
     * {@code n} asynchronous callers (as a GraphQL resolver or a reactive handler calls java-dataloader): each asks
     * for one random id with {@code load(key)} and, when that future completes, for the next, until the window
     * ends. No thread waits, so no thread is parked and woken per lookup; the callbacks run on the threads that
     * complete the batches, after their slots are released.
     */
    private Round asyncLookups(int n, BatchedLookup<Long, String> users) throws Exception {
        return asyncCallers(n, () -> users.load(ThreadLocalRandom.current().nextLong(1, ROWS + 1)));
    }

    /**
     * {@code n} chains, each sending {@code request} and, when its future completes, the next, for the window
     * after a 3 s warm-up. Latency is every {@value #LATENCY_SAMPLE}th request's.
     */
    private Round asyncCallers(int n, Supplier<CompletableFuture<?>> request) throws Exception {
        long measureFrom = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
        Recorder[] recorders = new Recorder[RECORDER_STRIPES];
        for (int r = 0; r < RECORDER_STRIPES; r++) {
            recorders[r] = new Recorder(3);
        }
        LongAdder done = new LongAdder();
        LongAdder errors = new LongAdder();
        CountDownLatch finished = new CountDownLatch(n);
        class Chain {
            final Recorder recorder;
            long counted;

            Chain(Recorder recorder) {
                this.recorder = recorder;
            }

            void next(long started) {
                request.get().whenComplete((result, error) -> {
                    long now = System.nanoTime();
                    if (error != null) {
                        errors.increment();
                    } else if (started >= measureFrom && now < end) {
                        done.increment();
                        if (counted++ % LATENCY_SAMPLE == 0) {
                            recorder.recordValue(now - started);
                        }
                    }
                    if (now < end && error == null) {
                        next(now);
                    } else {
                        finished.countDown();
                    }
                });
            }
        }
        for (int i = 0; i < n; i++) {
            new Chain(recorders[i % RECORDER_STRIPES]).next(System.nanoTime());
        }
        if (!finished.await(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("asynchronous callers did not finish");
        }
        if (errors.sum() > 0) {
            throw new IllegalStateException(errors.sum() + " requests failed");
        }
        Histogram latency = new Histogram(3);
        for (Recorder r : recorders) {
            latency.add(r.getIntervalHistogram());
        }
        return new Round(done.sum() / (double) seconds, latency, 0);
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

    /** Ferry's asynchronous one-key callers alone, then the ceiling. */
    private void asyncAlone(int n) throws Exception {
        try (FerryDataSource ds = ferry();
             BatchedLookup<Long, String> users = users(ds, inFlight != null ? inFlight : poolSize)) {
            Round f = asyncLookups(n, users);
            print("Ferry, batched, asynchronous callers", f, "lookups", String.format(Locale.ROOT,
                    "%.1f lookups per statement", users.stats().efficiency()));
            double ceiling = ceiling();
            System.out.printf(Locale.ROOT, "  plain-JDBC ceiling: %,.0f lookups/s; asynchronous/ceiling: %.2f%n",
                    ceiling, f.perSecond / ceiling);
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

    /**
     * What a blocking caller's hand-off costs with no database and no batcher logic: {@code n} virtual threads each
     * put a key and a future on a {@link ConcurrentLinkedQueue} and wait; one platform thread takes up to
     * {@value #CEILING_KEYS} at a time and completes them with a constant (a virtual thread, as Ferry's batches
     * are; it parks when the queue is empty and the
     * next caller wakes it). Returns the process's CPU time per request over the measured window (after the
     * warm-up, so JIT compilation is mostly done), in nanoseconds: CPU time, not the rate, because one completer thread may limit the rate without both cores
     * being busy. Any batcher whose callers block pays at least a park and a wake-up per request.
     */
    private double handoffCpuNanos(int n) throws Exception {
        record Pending(long key, CompletableFuture<String> future) {
        }
        ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
        AtomicBoolean sleeping = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Thread> completerThread = new java.util.concurrent.atomic.AtomicReference<>();
        ExecutorService completerExecutor = callers(); // a virtual thread, as Ferry completes batches on
        CountDownLatch completerStarted = new CountDownLatch(1);
        Future<?> completerTask = completerExecutor.submit(() -> {
            completerThread.set(Thread.currentThread());
            completerStarted.countDown();
            while (!stop.get()) {
                int taken = 0;
                Pending p;
                while (taken < CEILING_KEYS && (p = queue.poll()) != null) {
                    p.future().complete("user");
                    taken++;
                }
                if (taken == 0) {
                    sleeping.set(true);
                    if (queue.isEmpty() && !stop.get()) {
                        LockSupport.park();
                    }
                    sleeping.set(false);
                }
            }
        });
        completerStarted.await();
        Thread completer = completerThread.get();
        LongAdder requests = new LongAdder();
        long[] window = new long[4]; // CPU and requests at the window's start and end, read by a timer thread
        Thread meter = new Thread(() -> {
            try {
                Thread.sleep(3_000);
                window[0] = processCpuNanos();
                window[1] = requests.sum();
                Thread.sleep(seconds * 1_000L);
                window[2] = processCpuNanos();
                window[3] = requests.sum();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bench-handoff-meter");
        meter.start();
        try {
            sustained(n, 3, seconds, i -> {
                CompletableFuture<String> future = new CompletableFuture<>();
                queue.add(new Pending(ThreadLocalRandom.current().nextLong(1, ROWS + 1), future));
                if (sleeping.get()) {
                    LockSupport.unpark(completer);
                }
                future.get();
                requests.increment();
            });
            meter.join();
            return (window[2] - window[0]) / (double) (window[3] - window[1]);
        } finally {
            stop.set(true);
            LockSupport.unpark(completer);
            completerTask.get(1, TimeUnit.MINUTES);
            completerExecutor.shutdown();
        }
    }

    /** This process's CPU time so far, in nanoseconds (all threads). */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The machine's busy and total CPU time so far, in clock ticks, from /proc/stat (Linux); null elsewhere. */
    private static long[] machineCpu() {
        try {
            String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0).trim()
                    .split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[] {total - idle, total};
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * An estimate of the most blocked callers can reach, in lookups/s: the ceiling's machine time per lookup (its
     * run's busy share of both cores, JVM and server alike) plus the hand-off's CPU time per request, spread over
     * the cores. It assumes the two costs add, as they do when both run on the same cores.
     */
    private double blockedCallersEstimate(double ceiling, double handoffCpuNanos) {
        int cores = Runtime.getRuntime().availableProcessors();
        double ceilingCoreNanos = ceilingBusy * cores * 1e9 / ceiling;
        return cores * 1e9 / (ceilingCoreNanos + handoffCpuNanos);
    }

    /** The share of the machine's CPU the last ceiling run kept busy (1 where /proc/stat cannot be read). */
    private double ceilingBusy = 1;

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
            long[] cpuBefore = machineCpu();
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
            long[] cpuAfter = machineCpu();
            ceilingBusy = cpuBefore == null || cpuAfter == null || cpuAfter[1] == cpuBefore[1] ? 1
                    : (cpuAfter[0] - cpuBefore[0]) / (double) (cpuAfter[1] - cpuBefore[1]);
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
        Writes plainRun = ferryWrites(n, insert, ids, false, false);
        Writes arrayRun = ferryWrites(n, insert, ids, true, false);
        Writes asyncRun = ferryWrites(n, insert, ids, true, true);
        Round plain = plainRun.round();
        Round f = arrayRun.round();
        double copy;
        try (FerryDataSource ds = ferry()) {
            copy = copyRate(ds, 100_000, ids);
            truncateEvents(ds);
        }
        int ceilingThreads = inFlight != null ? inFlight : poolSize;
        int ceilingRows = batchSize != null ? batchSize : 100;
        double inserts = insertCeiling(ceilingThreads, ceilingRows, ids);
        print("HikariCP, autocommit per request", h, "rows", "");
        print("Ferry, JDBC batches (postgresArrays off)", plain, "rows", String.format(Locale.ROOT,
                "%.1f rows per transaction", plainRun.rowsPerTransaction()));
        print("Ferry, one unnest statement per batch", f, "rows", String.format(Locale.ROOT,
                "%.1f rows per transaction", arrayRun.rowsPerTransaction()));
        print("Ferry, unnest, asynchronous callers", asyncRun.round(), "rows", String.format(Locale.ROOT,
                "%.1f rows per transaction; submit(row), the next on commit", asyncRun.rowsPerTransaction()));
        System.out.printf(Locale.ROOT, "  COPY of 100,000 rows, one connection, best of %d: %,.0f rows/s%n",
                COPY_ROUNDS, copy);
        System.out.printf(Locale.ROOT, "  plain-JDBC INSERT ceiling (%d threads, %d-row unnest statements, "
                + "autocommit): %,.0f rows/s, %.2f of COPY; ferry/insert ceiling: %.2f%n", ceilingThreads,
                ceilingRows, inserts, inserts / copy, f.perSecond / inserts);
        System.out.printf(Locale.ROOT, "  ferry/hikari throughput: %.1fx (JDBC batches: %.1fx; asynchronous "
                + "callers: %.1fx); ferry/COPY: %.2f (JDBC batches: %.2f; asynchronous callers: %.2f)%n",
                f.perSecond / h.perSecond, plain.perSecond / h.perSecond, asyncRun.round().perSecond / h.perSecond,
                f.perSecond / copy, plain.perSecond / copy, asyncRun.round().perSecond / copy);
    }

    /** A write round and its rows per transaction. */
    record Writes(Round round, double rowsPerTransaction) {
    }

    /** Ferry's batched writer on a plain URL, with or without PostgreSQL arrays, blocked or asynchronous callers. */
    private Writes ferryWrites(int n, String insert, AtomicLong ids, boolean arrays, boolean async)
            throws Exception {
        try (FerryDataSource ds = ferry();
             BatchedWriter<Long> events = BatchedWriter.<Long>builder(ds).sql(insert)
                     .bind((ps, id) -> {
                         ps.setLong(1, id);
                         ps.setString(2, "event");
                     }).maxInFlight(inFlight != null ? inFlight : poolSize).postgresArrays(arrays)
                     .maxBatchSize(batchSize != null ? batchSize : 100).build()) {
            truncateEvents(ds);
            Round r = async ? asyncCallers(n, () -> events.submit(ids.incrementAndGet()))
                    : sustained(n, 3, seconds, i -> events.write(ids.incrementAndGet()));
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

    /**
     * COPY's rate on one connection into the emptied table (emptied before each round, untimed): one warm-up COPY
     * of {@code rows}, then the best of {@value #COPY_ROUNDS} more. One COPY of 100,000 rows lasts about a tenth
     * of a second, short enough for a checkpoint or autovacuum to skew a single run; the best is the ceiling a
     * writer is held to. (Ferry's writers start from the emptied table too.)
     */
    private static double copyRate(DataSource ds, int rows, AtomicLong ids) throws Exception {
        double best = 0;
        try (Connection c = ds.getConnection()) {
            org.postgresql.copy.CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            for (int round = 0; round <= COPY_ROUNDS; round++) {
                truncateEvents(ds);
                StringBuilder data = new StringBuilder(rows * 24);
                for (int i = 0; i < rows; i++) {
                    data.append(ids.incrementAndGet()).append("\tevent\n");
                }
                long t0 = System.nanoTime();
                copy.copyIn("COPY ferry_bench_events (id, kind) FROM STDIN", new StringReader(data.toString()));
                double rate = rows / ((System.nanoTime() - t0) / 1e9);
                if (round > 0) { // round 0 warms up
                    best = Math.max(best, rate);
                }
            }
        }
        return best;
    }

    private static final int COPY_ROUNDS = 5;

    /**
     * The most plain JDBC gets from INSERT statements on this table: {@code threads} platform threads, each on its
     * own connection, each sending {@code rows}-row {@code INSERT ... SELECT * FROM unnest(?::int8[], ?::text[])}
     * statements with typed arrays, autocommit: the equivalent of Ferry's array writes (which name the columns
     * and cast to varchar[]), without callers, futures, a pool or a transaction per batch. Rows per second.
     */
    private double insertCeiling(int threads, int rows, AtomicLong ids) throws Exception {
        String sql = "INSERT INTO ferry_bench_events (id, kind) SELECT * FROM unnest(?::int8[], ?::text[])";
        Connection[] connections = new Connection[threads];
        PreparedStatement[] statements = new PreparedStatement[threads];
        String[] kinds = new String[rows];
        java.util.Arrays.fill(kinds, "event");
        try {
            for (int t = 0; t < threads; t++) {
                connections[t] = java.sql.DriverManager.getConnection(url);
                statements[t] = connections[t].prepareStatement(sql);
            }
            Round statementsRun = sustained(Executors.newFixedThreadPool(threads), threads, 3, seconds, i -> {
                Long[] batch = new Long[rows];
                long first = ids.getAndAdd(rows) + 1;
                for (int r = 0; r < rows; r++) {
                    batch[r] = first + r;
                }
                PreparedStatement ps = statements[i];
                ps.setArray(1, connections[i].createArrayOf("int8", batch));
                ps.setArray(2, connections[i].createArrayOf("text", kinds));
                ps.executeUpdate();
            });
            return statementsRun.perSecond * rows;
        } finally {
            for (Connection c : connections) {
                if (c != null) {
                    c.close();
                }
            }
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
