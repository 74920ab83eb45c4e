package dev.ferry.pool;

import dev.ferry.PoolEvent;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Whether the pool is exhausted (callers wait with the pool at its cap), for the {@link PoolEvent.Exhausted} and
 * {@link PoolEvent.Recovered} events. The pool is exhausted from the first caller that waits at the cap until a
 * connection comes back (or housekeeping runs) with nobody waiting and no caller having waited at the cap for
 * {@link #QUIET_NANOS}: without that quiet time, a pool at its edge would flip between the two on every borrow.
 *
 * <p>Apart from the pool's fields (and padded) because waiters write {@link #lastWaitAtCap}, while every borrow
 * reads the pool's own fields: a write here must not evict those from other cores' caches. Waiters write it
 * at most every {@code QUIET_NANOS / 16}, and read it otherwise.
 */
final class Exhaustion extends CacheLinePadding {

    /** No caller waited at the cap for this long (and none waits): the pool has recovered. */
    static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final AtomicBoolean exhausted = new AtomicBoolean();
    private volatile long lastWaitAtCap;
    private volatile long since;
    private volatile long timeoutsAtStart;
    /** Callers that timed out, ever (for the Recovered event's count). */
    final LongAdder timeouts = new LongAdder();

    /** A caller is about to wait with the pool at its cap; true if this starts an exhaustion. */
    boolean waitAtCap(long now) {
        if (exhausted.get()) {
            if (now - lastWaitAtCap > QUIET_NANOS / 16) {
                lastWaitAtCap = now;
            }
            return false;
        }
        lastWaitAtCap = now;
        if (!exhausted.compareAndSet(false, true)) {
            return false;
        }
        since = now;
        timeoutsAtStart = timeouts.sum();
        return true;
    }

    boolean isExhausted() {
        return exhausted.get();
    }

    /** With {@code waiting} callers now: the Recovered event if the exhaustion ends now, else null. */
    PoolEvent.Recovered recovered(String pool, long now, int waiting) {
        if (waiting > 0 || now - lastWaitAtCap < QUIET_NANOS || !exhausted.compareAndSet(true, false)) {
            return null;
        }
        return new PoolEvent.Recovered(pool, Duration.ofNanos(Math.max(0, now - since)),
                timeouts.sum() - timeoutsAtStart);
    }
}
