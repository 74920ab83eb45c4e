package dev.ferry.pool;

import dev.ferry.observe.PoolMetrics;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's view of a user's {@link PoolMetrics}: every call is made as given, and anything it throws is logged
 * (once, then at DEBUG) and swallowed, so a broken metrics tracker can never leave a connection lent, a return
 * unfinished or a connect counted as failed. Errors that mean the JVM itself is in trouble are rethrown.
 */
final class GuardedPoolMetrics implements PoolMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedPoolMetrics.class);

    private final PoolMetrics metrics;
    private final String poolName;
    private final AtomicBoolean warned = new AtomicBoolean();

    GuardedPoolMetrics(PoolMetrics metrics, String poolName) {
        this.metrics = metrics;
        this.poolName = poolName;
    }

    private void failed(String call, Throwable t) {
        if (t instanceof VirtualMachineError) {
            throw (VirtualMachineError) t;
        }
        if (warned.compareAndSet(false, true)) {
            LOG.warn("{} - metrics tracker {} failed in {} (ignored; later failures are logged at DEBUG)", poolName,
                    metrics.getClass().getName(), call, t);
        } else {
            LOG.debug("{} - metrics tracker failed in {}", poolName, call, t);
        }
    }

    @Override
    public void acquired(String lane, long nanos) {
        try {
            metrics.acquired(lane, nanos);
        } catch (Throwable t) {
            failed("acquired", t);
        }
    }

    @Override
    public void released(String lane, long nanos) {
        try {
            metrics.released(lane, nanos);
        } catch (Throwable t) {
            failed("released", t);
        }
    }

    @Override
    public void created(long nanos) {
        try {
            metrics.created(nanos);
        } catch (Throwable t) {
            failed("created", t);
        }
    }

    @Override
    public void timedOut(String lane) {
        try {
            metrics.timedOut(lane);
        } catch (Throwable t) {
            failed("timedOut", t);
        }
    }

    @Override
    public void rejected(String reason) {
        try {
            metrics.rejected(reason);
        } catch (Throwable t) {
            failed("rejected", t);
        }
    }

    @Override
    public void evicted(String reason) {
        try {
            metrics.evicted(reason);
        } catch (Throwable t) {
            failed("evicted", t);
        }
    }

    @Override
    public void leakSuspected() {
        try {
            metrics.leakSuspected();
        } catch (Throwable t) {
            failed("leakSuspected", t);
        }
    }

    @Override
    public void reserveUsed() {
        try {
            metrics.reserveUsed();
        } catch (Throwable t) {
            failed("reserveUsed", t);
        }
    }

    @Override
    public void statement(long nanos, boolean failed) {
        try {
            metrics.statement(nanos, failed);
        } catch (Throwable t) {
            failed("statement", t);
        }
    }

    @Override
    public void slowStatement() {
        try {
            metrics.slowStatement();
        } catch (Throwable t) {
            failed("slowStatement", t);
        }
    }

    @Override
    public void close() {
        try {
            metrics.close();
        } catch (Throwable t) {
            failed("close", t);
        }
    }
}
