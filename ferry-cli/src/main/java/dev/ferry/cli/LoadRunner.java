package dev.ferry.cli;

import dev.ferry.FerryDataSource;
import dev.ferry.Priority;
import dev.ferry.batch.Batcher;
import dev.ferry.batch.BatchedLookup;
import dev.ferry.batch.BatchedWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Runs one scenario against one target and measures it: per-request latency (from the intended start, so an
 * open-loop run cannot hide queueing), time to get a connection, errors by kind, connections opened, pool size
 * and a per-second time series.
 */
final class LoadRunner {

    /** The time series' resolution: fine enough that a sub-second spike still draws a line. */
    static final long SAMPLE_MILLIS = 200;

    private final Scenario scenario;
    private final long accounts;
    private final boolean batching;

    private FaultInjector fault;
    private String faultPool;
    private java.io.PrintStream faultOut;

    private java.util.concurrent.CyclicBarrier startTogether;

    /** Waits at {@code barrier} after the warm-up, so pools run side by side start measuring together. */
    LoadRunner startingWith(java.util.concurrent.CyclicBarrier barrier) {
        this.startTogether = barrier;
        return this;
    }

    /** Runs {@code fault} during the measured run (not the warm-up), reporting to {@code out}. */
    LoadRunner withFault(FaultInjector fault, String pool, java.io.PrintStream out) {
        this.fault = fault;
        this.faultPool = pool;
        this.faultOut = out;
        return this;
    }

    LoadRunner(Scenario scenario, long accounts, boolean batching) {
        this.scenario = scenario;
        this.accounts = accounts;
        this.batching = batching;
    }

    /** A request: does its work, and reports the time it waited for a connection (or -1 if not measured). */
    private interface Request {
        void run(Priority priority, LongConsumer acquired) throws Exception;
    }

    /** One priority's counters in a run. */
    private static final class PriorityCounters {
        final LongAdder requests = new LongAdder();
        final LongAdder succeeded = new LongAdder();
        final LongAdder failed = new LongAdder();
        final LongAdder timeouts = new LongAdder();
        final Recorder latency = new Recorder(3);
        final Recorder acquire = new Recorder(3);

        /** @param all the run's latencies, which are this priority's when the mix has no other */
        RunResult.ByPriority result(Histogram all, boolean onlyPriority) {
            return new RunResult.ByPriority(requests.sum(), succeeded.sum(), failed.sum(), timeouts.sum(),
                    onlyPriority ? all.copy() : latency.getIntervalHistogram(), acquire.getIntervalHistogram());
        }
    }

    /** A priority drawn from the scenario's mix. */
    private Priority priority() {
        int roll = ThreadLocalRandom.current().nextInt(100);
        List<Integer> mix = scenario.mix();
        if (roll < mix.get(0)) {
            return Priority.CRITICAL;
        }
        return roll < mix.get(0) + mix.get(1) ? Priority.NORMAL : Priority.BULK;
    }

    /**
     * Runs the scenario. First {@code warmup} requests go unmeasured through the same path (32 callers), so JIT
     * compilation and driver class loading do not fall on whichever pool happens to run first.
     */
    /**
     * @param openedBefore the connection count taken before the target was created, so the connections a pool
     *                     opens at start-up count too
     */
    RunResult run(Target target, long firstEventId, int warmup, long openedBefore, LongConsumer progress)
            throws Exception {
        return run(target, firstEventId, warmup, openedBefore, progress, false);
    }

    /** Only the warm-up: used on every pool before any is measured, so the JVM is equally warm for all. */
    void rehearse(Target target, long firstEventId, int warmup) throws Exception {
        run(target, firstEventId, warmup, CountingDriver.opened(target.name), n -> { }, true);
    }

    private RunResult run(Target target, long firstEventId, int warmup, long openedBefore, LongConsumer progress,
                          boolean rehearsalOnly) throws Exception {
        // Latencies are recorded once per request, into the per-second recorder; the sampler adds each second's
        // histogram into the run's. A recorder per view would cost the client as much as a pool does.
        Histogram latency = new Histogram(3);
        boolean onePriority = scenario.mix().stream().filter(share -> share > 0).count() == 1;
        Recorder acquire = new Recorder(3);
        LongAdder requests = new LongAdder();
        LongAdder succeeded = new LongAdder();
        LongAdder timeouts = new LongAdder();
        LongAdder statements = new LongAdder();
        Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        java.util.EnumMap<Priority, PriorityCounters> byPriority = new java.util.EnumMap<>(Priority.class);
        for (Priority p : Priority.values()) {
            byPriority.put(p, new PriorityCounters());
        }
        AtomicLong eventIds = new AtomicLong(firstEventId);

        FerryDataSource ferry = batching ? target.ferry() : null;
        BatchedLookup<Long, Integer> lookup = null;
        BatchedWriter<long[]> writer = null;
        Request request;
        if (ferry != null && scenario.op() == Scenario.Op.READ) {
            BatchedLookup<Long, Integer> l = ferry.<Long, Integer>batchedLookup(Long.class).sql(Schema.LOOKUP_SQL)
                    .key(rs -> rs.getLong(1)).row(rs -> rs.getInt(2)).name("load-lookup").build();
            lookup = l;
            request = (priority, acquired) -> {
                if (priority == Priority.NORMAL) {
                    l.get(randomAccount());
                } else {
                    Batcher.await(l.load(randomAccount(), priority));
                }
                acquired.accept(-1);
            };
        } else if (ferry != null) {
            BatchedWriter<long[]> w = ferry.<long[]>batchedWriter().sql(Schema.WRITE_SQL).bind((ps, row) -> {
                ps.setLong(1, row[0]);
                ps.setLong(2, row[1]);
                ps.setInt(3, (int) row[2]);
            }).name("load-writer").build();
            writer = w;
            request = (priority, acquired) -> {
                long[] row = {eventIds.getAndIncrement(), randomAccount(), 1};
                if (priority == Priority.NORMAL) {
                    w.write(row);
                } else {
                    Batcher.await(w.submit(row, priority));
                }
                acquired.accept(-1);
            };
        } else {
            request = (priority, acquired) -> {
                long t0 = System.nanoTime();
                try (Connection c = target.connection(priority)) {
                    acquired.accept(System.nanoTime() - t0);
                    if (scenario.op() == Scenario.Op.READ) {
                        try (PreparedStatement ps = c.prepareStatement(Schema.READ_SQL)) {
                            ps.setLong(1, randomAccount());
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                            }
                        }
                    } else {
                        try (PreparedStatement ps = c.prepareStatement(Schema.WRITE_SQL)) {
                            ps.setLong(1, eventIds.getAndIncrement());
                            ps.setLong(2, randomAccount());
                            ps.setInt(3, 1);
                            ps.executeUpdate();
                        }
                    }
                    statements.increment();
                    if (!scenario.hold().isZero()) {
                        LockSupport.parkNanos(scenario.hold().toNanos()); // keeps the connection, as slow work would
                    }
                }
            };
        }

        if (warmup > 0) {
            warmUp(request, warmup);
        }
        if (rehearsalOnly) {
            if (lookup != null) {
                lookup.close();
            }
            if (writer != null) {
                writer.close();
            }
            return null;
        }
        if (startTogether != null) {
            startTogether.await(10, TimeUnit.MINUTES);
        }
        target.measuredRunStarts();
        long statementsBefore = statements.sum();
        dev.ferry.batch.BatchStats batchBefore = lookup != null ? lookup.stats() : writer != null ? writer.stats() : null;
        long executionsBefore = batchBefore != null ? batchBefore.executions() : 0;

        // Per-second samples and pool-size peak.
        List<RunResult.Sample> samples = new CopyOnWriteArrayList<>();
        AtomicInteger peak = new AtomicInteger();
        LongAdder completedInSecond = new LongAdder();
        Recorder secondLatency = new Recorder(3);
        long start = System.nanoTime();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ferry-load-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleAtFixedRate(() -> peak.accumulateAndGet(target.size(), Math::max), 0, 50,
                TimeUnit.MILLISECONDS);
        long[] lastSample = {start};
        Runnable sample = () -> {
            long now = System.nanoTime();
            double interval = Math.max(1e-3, (now - lastSample[0]) / 1e9);
            lastSample[0] = now;
            Histogram h = secondLatency.getIntervalHistogram();
            synchronized (latency) {
                latency.add(h);
            }
            samples.add(new RunResult.Sample((now - start) / 1e9, completedInSecond.sumThenReset() / interval,
                    RunResult.ms(h, 50), RunResult.ms(h, 95), RunResult.ms(h, 99), target.size(), target.active(),
                    target.waiting()));
        };
        sampler.scheduleAtFixedRate(sample, SAMPLE_MILLIS, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
        Thread faultThread = fault == null ? null : fault.start(faultPool, faultOut);

        ExecutorService callers = callers();
        try {
            List<Future<?>> futures = new ArrayList<>();
            Request r = request;
            LongConsumer execute = intendedStart -> {
                requests.increment();
                Priority priority = priority();
                PriorityCounters pc = byPriority.get(priority);
                pc.requests.increment();
                try {
                    r.run(priority, nanos -> {
                        if (nanos >= 0) {
                            acquire.recordValue(nanos);
                            pc.acquire.recordValue(nanos);
                        }
                    });
                    long took = System.nanoTime() - intendedStart;
                    secondLatency.recordValue(took);
                    if (!onePriority) {
                        pc.latency.recordValue(took);
                    }
                    succeeded.increment();
                    pc.succeeded.increment();
                } catch (Exception e) {
                    String kind = kind(e);
                    errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
                    pc.failed.increment();
                    if (kind.equals("timeout")) {
                        timeouts.increment();
                        pc.timeouts.increment();
                    }
                }
                completedInSecond.increment();
                progress.accept(1);
            };
            switch (scenario.shape()) {
                case BURST:
                    for (int c = 0; c < scenario.clients(); c++) {
                        futures.add(callers.submit(() -> {
                            for (int i = 0; i < scenario.requests(); i++) {
                                execute.accept(System.nanoTime());
                            }
                        }));
                    }
                    break;
                case CLOSED: {
                    long end = System.nanoTime() + scenario.step().toNanos();
                    for (int c = 0; c < scenario.clients(); c++) {
                        futures.add(callers.submit(() -> {
                            long now;
                            while ((now = System.nanoTime()) < end) {
                                execute.accept(now);
                            }
                        }));
                    }
                    break;
                }
                case OPEN: {
                    long next = System.nanoTime();
                    for (int rate : scenario.rates()) {
                        long interval = TimeUnit.SECONDS.toNanos(1) / Math.max(1, rate);
                        long stepEnd = next + scenario.step().toNanos();
                        while (next < stepEnd) {
                            long wait = next - System.nanoTime();
                            if (wait > 0) {
                                LockSupport.parkNanos(wait);
                            }
                            long intended = next;
                            futures.add(callers.submit(() -> execute.accept(intended)));
                            next += interval;
                        }
                    }
                    break;
                }
                default:
                    throw new IllegalStateException(scenario.shape().toString());
            }
            for (Future<?> f : futures) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            callers.shutdown();
            sampler.shutdown();
            sampler.awaitTermination(5, TimeUnit.SECONDS);
            if (faultThread != null) {
                faultThread.interrupt(); // if it is still sleeping, the fault was due after the run: skip it
                faultThread.join(TimeUnit.MINUTES.toMillis(2));
            }
        }
        sample.run(); // the last, partial interval: short runs still get a point
        double seconds = (System.nanoTime() - start) / 1e9;
        long roundTrips = statements.sum() - statementsBefore;
        BatchFigures batch = null;
        if (lookup != null || writer != null) {
            dev.ferry.batch.BatchStats after = lookup != null ? lookup.stats() : writer.stats();
            roundTrips = after.executions() - executionsBefore;
            batch = BatchFigures.between(batchBefore, after);
            if (lookup != null) {
                lookup.close();
            } else {
                writer.close();
            }
        }
        Map<String, Long> errorCounts = new TreeMap<>();
        errors.forEach((k, v) -> errorCounts.put(k, v.sum()));
        long failed = errorCounts.values().stream().mapToLong(Long::longValue).sum();
        List<RunResult.Sample> series = List.copyOf(samples);
        Histogram latencies;
        synchronized (latency) {
            latencies = latency.copy();
        }
        return new RunResult(target.name, lookup != null || writer != null, requests.sum(), succeeded.sum(), failed,
                timeouts.sum(), errorCounts, seconds, latencies, acquire.getIntervalHistogram(),
                CountingDriver.opened(target.name) - openedBefore, peak.get(), roundTrips, series,
                priorities(byPriority, latencies, onePriority), target.reserveUses(), batch);
    }

    /** The priorities the mix uses, by name ("critical", "normal", "bulk"), in that order. */
    private Map<String, RunResult.ByPriority> priorities(java.util.EnumMap<Priority, PriorityCounters> counters,
                                                         Histogram all, boolean onePriority) {
        Map<String, RunResult.ByPriority> out = new java.util.LinkedHashMap<>();
        Priority[] order = {Priority.CRITICAL, Priority.NORMAL, Priority.BULK};
        for (int i = 0; i < order.length; i++) {
            if (scenario.mix().get(i) > 0) {
                out.put(order[i].name().toLowerCase(java.util.Locale.ROOT),
                        counters.get(order[i]).result(all, onePriority));
            }
        }
        return out;
    }

    /**
     * Rehearses: a burst scenario gets an unmeasured burst of the same kind; others a closed loop of 32 callers.
     * Errors are ignored here; they show in the measured run.
     */
    private void warmUp(Request request, int count) throws Exception {
        ExecutorService callers = callers();
        try {
            List<Future<?>> futures = new ArrayList<>();
            if (scenario.shape() == Scenario.Shape.BURST) {
                for (int c = 0; c < Math.min(count, scenario.clients() * Math.max(1, scenario.requests())); c++) {
                    futures.add(callers.submit(() -> quietly(request)));
                }
            } else {
                AtomicInteger left = new AtomicInteger(count);
                for (int c = 0; c < 32; c++) {
                    futures.add(callers.submit(() -> {
                        while (left.getAndDecrement() > 0) {
                            quietly(request);
                        }
                    }));
                }
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            callers.shutdown();
        }
    }

    private static void quietly(Request request) {
        try {
            request.run(Priority.NORMAL, n -> { });
        } catch (Exception ignored) {
            // warm-up only
        }
    }

    private long randomAccount() {
        return ThreadLocalRandom.current().nextLong(1, accounts + 1);
    }

    /** A short name for an error's kind, for the summary: timeout, too-many-connections, connection, sql-XXXXX. */
    static String kind(Throwable e) {
        Throwable cause = e;
        while (!(cause instanceof SQLException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof SQLTransientConnectionException || cause instanceof SQLTimeoutException) {
            return "timeout";
        }
        if (cause instanceof SQLException) {
            String state = ((SQLException) cause).getSQLState();
            if ("53300".equals(state) || "08004".equals(state)) {
                return "too-many-connections";
            }
            if (state != null && state.startsWith("08")) {
                return "connection";
            }
            return "sql-" + (state == null ? "unknown" : state);
        }
        return e.getClass().getSimpleName();
    }

    private static ExecutorService callers() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            return Executors.newFixedThreadPool(512);
        }
    }
}
