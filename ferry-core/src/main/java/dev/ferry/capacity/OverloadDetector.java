package dev.ferry.capacity;

import dev.ferry.Priority;
import dev.ferry.Ticker;

/**
 * Tells a pool when it is overloaded, after CoDel (Nichols and Jacobson, "Controlling Queue Delay"): not when the
 * queue is long, but when the time callers wait for a connection has stayed above a target for a whole interval.
 * A burst that drains quickly is not overload; a standing queue is.
 *
 * <h2>Design notes</h2>
 *
 * <p>The pool reports NORMAL and BULK callers it serves from its slow path with how long they waited
 * ({@link #served}; zero when a connection was free; a timeout as its whole wait), and, while an episode is on,
 * every caller served at once from the fast path. CRITICAL callers are not reported: they are handed the next
 * connection, so their short waits would hide a standing queue. A wait below the target ends any episode at
 * once. The first wait at or above it starts
 * the clock; if every wait reported over the next {@code interval} is also at or above it, the pool is
 * overloaded. While overloaded, a pool that sheds fails new NORMAL and BULK callers that would have to wait, at
 * once (unless a connection is IDLE), with a clear error, instead of letting them wait out their timeout and add
 * to the queue; CRITICAL callers are never shed. Callers already waiting keep their place, so the queue drains, served waits fall below the
 * target, and the episode ends; it also ends when nobody is waiting ({@link #queueEmpty}), since then no served
 * wait would come to end it. Each transition is logged once (WARN on entry, INFO on exit).
 *
 * <p>Times come from the injected {@link Ticker}. Entering and leaving an episode are CAS transitions, so each is
 * logged and counted once. The episode's start time is a plain volatile: a caller racing a reset may start the
 * clock again a moment late or early, which moves an episode's start by a served caller or so, never its end.
 */
public final class OverloadDetector {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OverloadDetector.class);
    private static final long NONE = Long.MIN_VALUE;

    private final String poolName;
    private final long targetNanos;
    private final long intervalNanos;
    private final boolean shed;
    private final Ticker ticker;
    private volatile long aboveSince = NONE;
    private final java.util.concurrent.atomic.AtomicBoolean overloaded = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicLong episodes = new java.util.concurrent.atomic.AtomicLong();

    /**
     * @param targetNanos   the queue wait callers may see without it counting as overload
     * @param intervalNanos how long every served wait must stay at or above the target
     * @param shed          whether to fail new NORMAL/BULK callers at once while overloaded (else only warn)
     */
    public OverloadDetector(String poolName, long targetNanos, long intervalNanos, boolean shed, Ticker ticker) {
        this.poolName = poolName;
        this.targetNanos = targetNanos;
        this.intervalNanos = intervalNanos;
        this.shed = shed;
        this.ticker = ticker;
    }

    /** A caller was served after waiting {@code waitedNanos} (0 if a connection was free). */
    public void served(long waitedNanos) {
        if (waitedNanos < targetNanos) {
            aboveSince = NONE;
            end("served within " + millis(targetNanos) + "ms again");
            return;
        }
        long now = ticker.read();
        long since = aboveSince;
        if (since == NONE) {
            aboveSince = now;
        } else if (now - since >= intervalNanos && overloaded.compareAndSet(false, true)) {
            episodes.incrementAndGet();
            LOG.warn("{} - overloaded: callers have waited {}ms or more for a connection for {}ms{}", poolName,
                    millis(targetNanos), millis(now - since),
                    shed ? "; new NORMAL and BULK callers fail at once until it clears (CRITICAL ones still wait)"
                            : "");
        }
    }

    /** Nobody is waiting: an episode cannot last (no served wait would come to end it). */
    public void queueEmpty() {
        aboveSince = NONE;
        end("the queue drained");
    }

    private void end(String why) {
        if (overloaded.get() && overloaded.compareAndSet(true, false)) {
            LOG.info("{} - no longer overloaded: {}", poolName, why);
        }
    }

    /** Whether a caller of this priority that would have to wait should be failed at once. */
    public boolean sheds(Priority priority) {
        return shed && priority != Priority.CRITICAL && overloaded.get();
    }

    public boolean isOverloaded() {
        return overloaded.get();
    }

    /** Overload episodes so far. */
    public long episodes() {
        return episodes.get();
    }

    public long targetNanos() {
        return targetNanos;
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000L;
    }
}
