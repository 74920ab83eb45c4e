package dev.ferry.observe;

import dev.ferry.FerryListener;
import dev.ferry.PoolEvent;
import dev.ferry.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs pool events through SLF4J (logger {@code dev.ferry.events}), at most one line per kind of event per
 * interval (10 s by default), so an exhaustion or eviction storm cannot flood the log: the next line that is
 * written says how many of its kind were left out meanwhile. Leaks, failovers and the ends of replica bans are the
 * exceptions: each leak is logged with its borrower's stack, which is what finds the leak, and the others are rare. Every pool installs one; the pool's own ticker drives the
 * interval, so tests advance it by hand.
 *
 * <p>Levels: WARN for what needs attention (exhausted, reserve used, leak suspected, a second connection asked for by a thread holding one, slow statement, shed, a
 * connection evicted because it failed a check or broke, a replica banned, a failover), INFO for recoveries and resizes, DEBUG for routine
 * retirements (lifetime, idle timeout, shrinking, closing).
 */
public final class LoggingListener implements FerryListener {

    private static final Logger EVENTS = LoggerFactory.getLogger("dev.ferry.events");
    /** The default interval: one line per kind of event per 10 s. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    private final Logger log;
    private final Ticker ticker;
    private final long intervalNanos;
    private final Limit exhausted;
    private final Limit recovered;
    private final Limit reserve;
    private final Limit leakReturned;
    private final Limit multipleAcquisition;
    private final Limit slow;
    private final Limit evictedFailure;
    private final Limit evictedRoutine;
    private final Limit resized;
    private final Limit shed;
    private final Limit replica;

    public LoggingListener(Ticker ticker, Duration interval) {
        this(ticker, interval, EVENTS);
    }

    /** For tests: logs to {@code logger}. */
    LoggingListener(Ticker ticker, Duration interval, Logger logger) {
        this.log = logger;
        this.ticker = java.util.Objects.requireNonNull(ticker, "ticker");
        this.intervalNanos = interval.toNanos();
        this.exhausted = new Limit();
        this.recovered = new Limit();
        this.reserve = new Limit();
        this.leakReturned = new Limit();
        this.multipleAcquisition = new Limit();
        this.slow = new Limit();
        this.evictedFailure = new Limit();
        this.evictedRoutine = new Limit();
        this.resized = new Limit();
        this.shed = new Limit();
        this.replica = new Limit();
    }

    @Override
    public void poolExhausted(PoolEvent.Exhausted e) {
        long left = exhausted.pass();
        if (left >= 0) {
            // total counts open connections only; connects and closes under way fill the cap too
            log.warn("{} - pool exhausted: a caller waits with no idle connection and the pool at its cap, "
                    + "counting connections being opened or closed (total={} open, active={}, waiting={}, cap={}){}", e.pool(),
                    e.total(), e.active(), e.waiting(), e.cap(), suppressed(left));
        }
    }

    @Override
    public void poolRecovered(PoolEvent.Recovered e) {
        long left = recovered.pass();
        if (left >= 0) {
            log.info("{} - pool recovered after {}ms exhausted ({} callers timed out meanwhile){}", e.pool(),
                    e.exhaustedFor().toMillis(), e.timeouts(), suppressed(left));
        }
    }

    @Override
    public void reserveUsed(PoolEvent.ReserveUsed e) {
        long left = reserve.pass();
        if (left >= 0) {
            log.warn("{} - emergency reserve used by a CRITICAL caller (use #{}): {} connections open, "
                    + "maximumPoolSize {}, reserve {}{}", e.pool(), e.uses(), e.open(), e.maximumPoolSize(),
                    e.reserve(), suppressed(left));
        }
    }

    /** Rate-limited like the others: a nested borrow in a hot path would otherwise log on every call. */
    @Override
    public void multipleAcquisition(PoolEvent.MultipleAcquisition e) {
        long left = multipleAcquisition.pass();
        if (left >= 0) {
            log.warn("{} - thread {} asked for a second connection while holding {}; with every connection held "
                    + "by a thread waiting for its second, all of them time out. Where the second was asked for "
                    + "follows, and its cause is where the first was borrowed{}", e.pool(), e.thread(), e.held(),
                    suppressed(left), e.askedAt());
        }
    }

    /** Not rate-limited, as leaks: each reclaim's borrower stack is what finds the leak. */
    @Override
    public void connectionReclaimed(PoolEvent.ConnectionReclaimed e) {
        log.warn("{} - connection reclaimed: {} was held for {}ms, past {}; its transaction was rolled back and the "
                + "borrower's handle no longer works; stack of the borrower follows", e.pool(), e.connection(),
                e.heldFor().toMillis(), e.why(), e.borrowerSite());
    }

    /** Not rate-limited: each leak's borrower stack is what finds it (as HikariCP logs every one). */
    @Override
    public void leakSuspected(PoolEvent.LeakSuspected e) {
        log.warn("{} - connection leak suspected: {} has been out for {}ms; stack of the borrower follows",
                e.pool(), e.connection(), e.heldFor().toMillis(), e.borrowerSite());
    }

    @Override
    public void leakReturned(PoolEvent.LeakReturned e) {
        long left = leakReturned.pass();
        if (left >= 0) {
            log.info("{} - connection {} reported as a leak was returned after {}ms{}", e.pool(), e.connection(),
                    e.heldFor().toMillis(), suppressed(left));
        }
    }

    @Override
    public void slowStatement(PoolEvent.SlowStatement e) {
        long left = slow.pass();
        if (left >= 0) {
            log.warn("{} - slow statement: {}ms (threshold {}ms): {}{}", e.pool(), e.elapsed().toMillis(),
                    e.threshold().toMillis(), e.fingerprint(), suppressed(left));
        }
    }

    @Override
    public void connectionEvicted(PoolEvent.ConnectionEvicted e) {
        if (isFailure(e.reason())) {
            long left = evictedFailure.pass();
            if (left >= 0) {
                log.warn("{} - connection {} evicted: {}{}", e.pool(), e.connection(), e.reason(), suppressed(left));
            }
        } else if (log.isDebugEnabled()) {
            long left = evictedRoutine.pass();
            if (left >= 0) {
                log.debug("{} - retiring {}: {}{}", e.pool(), e.connection(), e.reason(), suppressed(left));
            }
        }
    }

    @Override
    public void resized(PoolEvent.Resized e) {
        long left = resized.pass();
        if (left >= 0) {
            log.info("{} - maximumPoolSize {} -> {}{}", e.pool(), e.oldMaximumPoolSize(), e.newMaximumPoolSize(),
                    suppressed(left));
        }
    }

    @Override
    public void shed(PoolEvent.Shed e) {
        long left = shed.pass();
        if (left >= 0) {
            log.warn("{} - overloaded: callers have waited {}ms or more for a while; {} requests are refused at "
                    + "once until it passes (CRITICAL still waits; {} waiting){}", e.pool(),
                    e.queueWaitTarget().toMillis(), e.priority(), e.waiting(), suppressed(left));
        }
    }

    @Override
    public void replicaBanned(PoolEvent.ReplicaBanned e) {
        long left = replica.pass();
        if (left >= 0) {
            log.warn("{} - replica {} left out of reads for {}ms: {}{}", e.pool(), e.replica(), e.banTime().toMillis(),
                    e.reason(), suppressed(left));
        }
    }

    @Override
    public void replicaUnbanned(PoolEvent.ReplicaUnbanned e) {
        log.info("{} - replica {} takes reads again", e.pool(), e.replica());
    }

    /** Not rate-limited: a failover is rare, and each one matters. */
    @Override
    public void failover(PoolEvent.Failover e) {
        log.warn("{} - failover: writes now go to {} (was {}); {}ms since it was first found gone or demoted",
                e.pool(), e.to(), e.from(), e.outage().toMillis());
    }

    /** Reasons that mean the connection broke or failed a check, not that it retired in the normal course. */
    static boolean isFailure(String reason) {
        return reason.startsWith("failed") || reason.startsWith("broken");
    }

    private static String suppressed(long left) {
        return left == 0 ? "" : " (" + left + " more of these not logged in the last interval)";
    }

    /** One kind of event's rate limit: a line may be written once the interval since the last one has passed. */
    private final class Limit {
        /** When the next line may be written: from the start, at once. */
        private final AtomicLong nextAllowed = new AtomicLong(ticker.read());
        private final AtomicLong skipped = new AtomicLong();

        /** @return -1 if this one is not to be logged, else how many were left out since the last line */
        long pass() {
            long now = ticker.read();
            long next = nextAllowed.get();
            if (now - next < 0 || !nextAllowed.compareAndSet(next, now + intervalNanos)) {
                skipped.incrementAndGet();
                return -1;
            }
            return skipped.getAndSet(0);
        }
    }
}
