package dev.ferry.bench;

import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Many virtual threads sharing a small pool: each loops borrow, hold briefly (parked, as if waiting on the
 * database), return. Reports throughput and the distribution of time spent in {@code getConnection()} per pool.
 * Fairness shows in the tail: a pool that lets newcomers overtake waiters has a longer p99 and max.
 *
 * <pre>
 * java -cp ferry-bench/target/benchmarks.jar dev.ferry.bench.VirtualThreadContention \
 *     --pools ferry,hikari --threads 1000 --pool-size 10 --hold-us 100 --seconds 10
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
        int seconds = 10;
        int warmupSeconds = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pools" -> pools = args[++i];
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--pool-size" -> poolSize = Integer.parseInt(args[++i]);
                case "--hold-us" -> holdMicros = Long.parseLong(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup-seconds" -> warmupSeconds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; allowed: --pools, --threads, --pool-size, --hold-us, --seconds, --warmup-seconds");
            }
        }
        if (Runtime.version().feature() < 21) {
            System.out.println("VirtualThreadContention needs JDK 21+ (this is " + Runtime.version() + ")");
            return;
        }
        System.out.printf(Locale.ROOT, "%d virtual threads, pool of %d, hold %d us, %d s measured after %d s warm-up, "
                + "%d cores, JDK %s%n", threads, poolSize, holdMicros, seconds, warmupSeconds,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        System.out.printf(Locale.ROOT, "%-8s %12s %10s %10s %10s %10s %10s%n", "pool", "ops/s", "p50 us", "p99 us",
                "p99.9 us", "max us", "errors");
        for (String name : pools.split(",")) {
            Result r = run(PoolFactory.named(name.trim()), threads, poolSize, holdMicros, warmupSeconds, seconds);
            Histogram h = r.acquire;
            System.out.printf(Locale.ROOT, "%-8s %12.0f %10.1f %10.1f %10.1f %10.1f %10d%n", name.trim(),
                    r.opsPerSecond, h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
                    h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3, r.errors);
        }
    }

    record Result(double opsPerSecond, Histogram acquire, long errors) {
    }

    static Result run(PoolFactory factory, int threads, int poolSize, long holdMicros, int warmupSeconds,
                      int seconds) throws Exception {
        DataSource ds = factory.create(StubDatabase.create().url(), poolSize);
        Recorder recorder = new Recorder(3);
        AtomicLong ops = new AtomicLong();
        AtomicLong errors = new AtomicLong();
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
                    try {
                        long now;
                        while ((now = System.nanoTime()) < end) {
                            try (Connection c = ds.getConnection()) {
                                long acquired = System.nanoTime();
                                if (now >= measureFrom) {
                                    recorder.recordValue(acquired - now);
                                    ops.incrementAndGet();
                                }
                                LockSupport.parkNanos(holdNanos);
                            } catch (Exception e) {
                                errors.incrementAndGet();
                            }
                        }
                    } finally {
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
        return new Result(ops.get() / (double) seconds, recorder.getIntervalHistogram(), errors.get());
    }
}
