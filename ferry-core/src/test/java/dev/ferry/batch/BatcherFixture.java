package dev.ferry.batch;

import dev.ferry.FakeTicker;
import dev.ferry.ManualScheduler;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;

/**
 * What the batcher's unit tests share: a fake ticker and a manual scheduler (time moves only when a test moves
 * it), a real executor, and a batch function that records its calls and waits at a gate, so a test can hold a
 * batch "in flight" ({@link #hold()}) and let it finish ({@link #open()}).
 */
abstract class BatcherFixture {

    final FakeTicker ticker = new FakeTicker();
    final ManualScheduler scheduler = new ManualScheduler(ticker);
    final ExecutorService executor = Executors.newCachedThreadPool();
    final List<List<Integer>> calls = new CopyOnWriteArrayList<>();
    volatile CountDownLatch gate = new CountDownLatch(0);

    /** Doubles each key, after waiting for the gate; records every call. */
    final BatchFunction<Integer, Integer> doubler = keys -> {
        calls.add(List.copyOf(keys));
        awaitGate();
        Map<Integer, Integer> out = new HashMap<>();
        keys.forEach(k -> out.put(k, k * 2));
        return out;
    };

    BatcherBuilder<Integer, Integer> builder(BatchFunction<Integer, Integer> fn) {
        return Batcher.builder(fn).name("test").ticker(ticker).scheduler(scheduler).executor(executor);
    }

    @AfterEach
    void stop() {
        gate.countDown();
        executor.shutdownNow();
    }

    /** Holds the next batches in flight until {@link #open()}. */
    void hold() {
        gate = new CountDownLatch(1);
    }

    void open() {
        gate.countDown();
    }

    /** For batch functions of a test: waits at the gate like {@link #doubler}. */
    void awaitGate() {
        try {
            gate.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static <V> V value(CompletableFuture<V> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }
}
