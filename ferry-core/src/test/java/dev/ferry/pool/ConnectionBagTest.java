package dev.ferry.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/** The bag's wake-up and queueing rules, on real parked threads. */
class ConnectionBagTest {

    private static final long WAIT = TimeUnit.SECONDS.toNanos(3);

    private static PoolEntry lentEntry(ConnectionBag bag) {
        PoolEntry e = new PoolEntry(null, 0, 0); // starts IN_USE, as a fresh connection does
        bag.add(e);
        return e;
    }

    /**
     * Waits in the bag and reports whether the caller was served well before its deadline. A waiter that slept
     * beside an idle connection is served only when it wakes for its deadline (it scans once more then), so
     * "served" alone would not show a lost wake-up; "served before half the timeout" does, with a margin of
     * about a thousand times the normal hand-over time.
     */
    private static PoolEntry awaitPromptly(ConnectionBag bag) throws InterruptedException {
        long start = System.nanoTime();
        PoolEntry e = bag.await(System.nanoTime() + WAIT, Integer.MAX_VALUE, (x, d) -> true, () -> { });
        return System.nanoTime() - start < WAIT / 2 ? e : null;
    }

    private static boolean parked(List<Thread> threads) {
        for (Thread t : threads) {
            if (t.getState() != Thread.State.TIMED_WAITING && t.getState() != Thread.State.WAITING) {
                return false;
            }
        }
        return true;
    }

    /**
     * Three waiters parked past the hand-off threshold; three returns back to back. The first is handed over,
     * the next two go IDLE in normal mode. Each must wake a different waiter: before the fix the third return
     * woke the already-woken second waiter again, and the third waiter slept beside an idle connection until its
     * deadline.
     */
    @RepeatedTest(20)
    void nReturnsWakeNWaiters() throws Exception {
        ConnectionBag bag = new ConnectionBag();
        List<PoolEntry> entries = List.of(lentEntry(bag), lentEntry(bag), lentEntry(bag));
        List<Thread> threads = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(3, r -> {
            Thread t = new Thread(r);
            threads.add(t);
            return t;
        });
        try {
            List<Future<PoolEntry>> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                got.add(pool.submit(() -> awaitPromptly(bag)));
                await().atMost(Duration.ofSeconds(5)).until(() -> bag.waiting() == got.size());
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> threads.size() == 3 && parked(threads));
            Thread.sleep(5); // past the 1 ms hand-off threshold, so the returns below meet normal mode too
            for (PoolEntry e : entries) {
                bag.requite(e);
            }
            for (Future<PoolEntry> f : got) {
                assertThat(f.get(10, TimeUnit.SECONDS)).as("every waiter is served promptly").isNotNull();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** A waiter handed an unusable connection keeps its place ahead of later waiters (strict FIFO: virtual). */
    @Test
    void aWaiterWhoseConnectionIsRetiredKeepsItsPlace() throws Exception {
        ThreadFactory virtual = virtualThreads();
        assumeThat(virtual).as("virtual threads (JDK 21+)").isNotNull();
        ConnectionBag bag = new ConnectionBag();
        PoolEntry bad = lentEntry(bag);
        PoolEntry good = lentEntry(bag);
        PoolEntry third = lentEntry(bag);
        AtomicBoolean rejectedOnce = new AtomicBoolean();
        ConnectionBag.Acceptor firstWaiterRejectsBad = (e, deadline) -> {
            if (e == bad && rejectedOnce.compareAndSet(false, true)) {
                bag.remove(e); // retired, as the pool does with a connection that failed validation
                return false;
            }
            return true;
        };
        ExecutorService pool = Executors.newCachedThreadPool(virtual);
        try {
            Future<PoolEntry> oldest = pool.submit(() -> bag.await(System.nanoTime() + WAIT, Integer.MAX_VALUE,
                    firstWaiterRejectsBad, () -> { }));
            await().atMost(Duration.ofSeconds(5)).until(() -> bag.waiting() == 1);
            Future<PoolEntry> younger = pool.submit(() -> bag.await(System.nanoTime() + WAIT, Integer.MAX_VALUE,
                    (e, d) -> true, () -> { }));
            await().atMost(Duration.ofSeconds(5)).until(() -> bag.waiting() == 2);
            bag.requite(bad);
            await().atMost(Duration.ofSeconds(5)).until(rejectedOnce::get);
            bag.requite(good);
            assertThat(oldest.get(10, TimeUnit.SECONDS)).isSameAs(good);
            bag.requite(third);
            assertThat(younger.get(10, TimeUnit.SECONDS)).isSameAs(third);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void unservedCountsOnlyWaitersWithoutAConnection() throws Exception {
        ConnectionBag bag = new ConnectionBag();
        PoolEntry e = lentEntry(bag);
        ExecutorService pool = Executors.newFixedThreadPool(1);
        try {
            AtomicBoolean sawDemand = new AtomicBoolean();
            Future<PoolEntry> got = pool.submit(() -> bag.await(System.nanoTime() + WAIT, Integer.MAX_VALUE,
                    (x, d) -> true, () -> sawDemand.set(bag.unserved() == 1)));
            await().atMost(Duration.ofSeconds(5)).until(() -> bag.waiting() == 1);
            assertThat(sawDemand).as("the caller counts as demand before it asks for a connection").isTrue();
            bag.requite(e);
            assertThat(got.get(10, TimeUnit.SECONDS)).isSameAs(e);
            assertThat(bag.unserved()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    private static ThreadFactory virtualThreads() {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Method factory = Class.forName("java.lang.Thread$Builder").getMethod("factory");
            return (ThreadFactory) factory.invoke(builder);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /**
     * A waiter woken and interrupted at once leaves; the wake it received goes on to the next waiter, who would
     * otherwise sleep beside the idle connection until its deadline.
     */
    @RepeatedTest(10)
    void aWaiterLeavingOnInterruptPassesItsWakeOn() throws Exception {
        ConnectionBag bag = new ConnectionBag();
        PoolEntry first = lentEntry(bag);
        PoolEntry second = lentEntry(bag);
        List<Thread> threads = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(3, r -> {
            Thread t = new Thread(r);
            threads.add(t);
            return t;
        });
        try {
            Future<PoolEntry> w0 = pool.submit(() -> awaitPromptly(bag));
            await().atMost(Duration.ofSeconds(5)).until(() -> bag.waiting() == 1);
            Future<PoolEntry> w1 = pool.submit(() -> awaitPromptly(bag));
            await().atMost(Duration.ofSeconds(5)).until(() -> bag.waiting() == 2);
            Future<PoolEntry> w2 = pool.submit(() -> awaitPromptly(bag));
            await().atMost(Duration.ofSeconds(5)).until(() -> bag.waiting() == 3 && parked(threads));
            Thread.sleep(5); // past the hand-off threshold: the first return is handed to w0, the next goes IDLE
            bag.requite(first);
            assertThat(w0.get(10, TimeUnit.SECONDS)).isSameAs(first);
            await().atMost(Duration.ofSeconds(5)).until(() -> bag.waiting() == 2);
            bag.requite(second); // wakes w1 ...
            threads.get(1).interrupt(); // ... which leaves at once, unless it ran before the interrupt landed
            Throwable left = catchThrowableOf(w1);
            assumeThat(left).as("w1 left on the interrupt (it may win the race and take the connection)")
                    .isNotNull();
            assertThat(left).hasCauseInstanceOf(InterruptedException.class);
            assertThat(w2.get(10, TimeUnit.SECONDS)).as("w2 served promptly").isSameAs(second);
        } finally {
            pool.shutdownNow();
        }
    }

    private static Throwable catchThrowableOf(Future<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
            return null;
        } catch (Exception e) {
            return e;
        }
    }

    /** A caller whose demand signal fails (an Error from a thread factory, say) leaves no ghost in the queue. */
    @Test
    void aFailingDemandSignalLeavesNoGhostWaiter() {
        ConnectionBag bag = new ConnectionBag();
        PoolEntry e = lentEntry(bag);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> bag.await(System.nanoTime() + WAIT,
                Integer.MAX_VALUE, (x, d) -> true,
                () -> {
                    throw new OutOfMemoryError("unable to create native thread");
                })).isInstanceOf(OutOfMemoryError.class);
        assertThat(bag.waiting()).isZero();
        assertThat(bag.unserved()).isZero();
        bag.requite(e); // with a ghost in the queue this would spin forever
        assertThat(bag.poll()).isSameAs(e);
    }
}
