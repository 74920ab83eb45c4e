package dev.ferry.bench;

import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Many virtual threads sharing a small pool: each loops borrow, hold briefly (parked, as if waiting on the
 * database), return, then optionally "thinks" (an exponentially distributed pause, as an application does other
 * work between queries). Reports throughput and the distribution of time spent in {@code getConnection()} per
 * pool, and how many threads were starved (never got a connection while measuring).
 *
 * <p>How to read it. With no think time the pool is saturated: by Little's law the <em>mean</em> wait is fixed
 * by throughput (about threads / ops-per-second), whatever the pool does. A fair pool spreads that wait evenly,
 * so every acquisition waits about the mean; an unfair pool lets a few threads keep the connections and starves
 * the rest, so most acquisitions are instant (low p50 and p99) while starved threads wait seconds (huge p99.9,
 * max, and starved threads). With think time the pool is busy but not saturated, as in a real application, and
 * queueing is transient: there the tail (p99, p99.9, max) is what fairness improves.
 *
 * <pre>
 * java -cp ferry-bench/target/benchmarks.jar dev.ferry.bench.VirtualThreadContention \
 *     --pools ferry,hikari --threads 1000 --pool-size 10 --hold-us 100 --think-us 0 --seconds 10
 * </pre>
 *
 * Needs JDK 21+ for virtual threads; on older JDKs it says so and exits.
 */
public final class VirtualThreadContention {

    public static void main(String[] args) throws Exception {
        String pools = "ferry,hikari";
        int threads = 1000;
        int poolSize = 10;
        long holdMicros = 100;
        long thinkMicros = 0;
        int seconds = 10;
        int warmupSeconds = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pools" -> pools = args[++i];
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--pool-size" -> poolSize = Integer.parseInt(args[++i]);
                case "--hold-us" -> holdMicros = Long.parseLong(args[++i]);
                case "--think-us" -> thinkMicros = Long.parseLong(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup-seconds" -> warmupSeconds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; allowed: --pools, --threads, --pool-size, --hold-us, --think-us, --seconds, "
                        + "--warmup-seconds");
            }
        }
        if (Runtime.version().feature() < 21) {
            System.out.println("VirtualThreadContention needs JDK 21+ (this is " + Runtime.version() + ")");
            return;
        }
        System.out.printf(Locale.ROOT, "%d virtual threads, pool of %d, hold %d us, think %d us (mean), %d s measured "
                + "after %d s warm-up, %d cores, JDK %s%n", threads, poolSize, holdMicros, thinkMicros, seconds,
                warmupSeconds, Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.printf(Locale.ROOT, "%-8s %10s %10s %10s %11s %10s %9s %7s%n", "pool", "ops/s", "p50 us",
                "p99 us", "p99.9 us", "max us", "starved", "errors");
        for (String name : pools.split(",")) {
            Result r = run(PoolFactory.named(name.trim()), threads, poolSize, holdMicros, thinkMicros, warmupSeconds,
                    seconds);
            Histogram h = r.acquire;
            System.out.printf(Locale.ROOT, "%-8s %10.0f %10.1f %10.1f %11.1f %10.1f %9d %7d%n", name.trim(),
                    r.opsPerSecond, h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
                    h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3, r.starved, r.errors);
        }
    }

    /** Throughput, acquisition times, threads that never got a connection while measuring, errors. */
    record Result(double opsPerSecond, Histogram acquire, long starved, long errors) {
    }

    static Result run(PoolFactory factory, int threads, int poolSize, long holdMicros, long thinkMicros,
                      int warmupSeconds, int seconds) throws Exception {
        DataSource ds = factory.create(StubDatabase.create().url(), poolSize);
        Recorder recorder = new Recorder(3);
        AtomicLong ops = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong starved = new AtomicLong();
        long thinkNanos = TimeUnit.MICROSECONDS.toNanos(thinkMicros);
        long holdNanos = TimeUnit.MICROSECONDS.toNanos(holdMicros);
        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
        long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
        CountDownLatch done = new CountDownLatch(threads);
        List<Object> keep = new ArrayList<>();
        ExecutorService executor = (ExecutorService) Executors.class
                .getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        try {
            for (int t = 0; t < threads; t++) {
                keep.add(executor.submit(() -> {
                    long measuredOps = 0;
                    try {
                        long now;
                        while ((now = System.nanoTime()) < end) {
                            try (Connection c = ds.getConnection()) {
                                long acquired = System.nanoTime();
                                if (now >= measureFrom) {
                                    // A wait that ends after the window still counts as a wait (a starved
                                    // thread's is the longest), but not toward throughput.
                                    recorder.recordValue(acquired - now);
                                    if (acquired < end) {
                                        ops.incrementAndGet();
                                        measuredOps++;
                                    }
                                }
                                LockSupport.parkNanos(holdNanos);
                            } catch (Exception e) {
                                errors.incrementAndGet();
                            }
                            if (thinkNanos > 0) {
                                double u = ThreadLocalRandom.current().nextDouble();
                                LockSupport.parkNanos((long) (-Math.log(1 - u) * thinkNanos));
                            }
                        }
                    } finally {
                        if (measuredOps == 0) {
                            starved.incrementAndGet();
                        }
                        done.countDown();
                    }
                }));
            }
            while (System.nanoTime() < measureFrom) {
                Thread.sleep(50);
            }
            recorder.reset();
            ops.set(0);
            done.await();
        } finally {
            executor.shutdown();
            PoolFactory.close(ds);
        }
        return new Result(ops.get() / (double) seconds, recorder.getIntervalHistogram(), starved.get(), errors.get());
    }
}
