package dev.ferry.pool;

import dev.ferry.ConnectionInterceptor;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured {@link ConnectionInterceptor}s, called in order (create, acquire) or in reverse (return,
 * destroy), with what each throws contained as the interface promises. The pool holds null when there are none.
 */
final class Interceptors {

    private static final Logger LOG = LoggerFactory.getLogger(Interceptors.class);

    private final ConnectionInterceptor[] all;
    private final String poolName;

    private Interceptors(List<ConnectionInterceptor> all, String poolName) {
        this.all = all.toArray(new ConnectionInterceptor[0]);
        this.poolName = poolName;
    }

    /** The interceptors, or null when none is configured (so the pool's paths stay as they are). */
    static Interceptors of(List<ConnectionInterceptor> all, String poolName) {
        return all.isEmpty() ? null : new Interceptors(all, poolName);
    }

    void create(Connection physical) throws SQLException {
        for (ConnectionInterceptor i : all) {
            try {
                i.onCreate(physical);
            } catch (SQLException | RuntimeException e) {
                throw failure(i, "onCreate", "the new connection was closed, not pooled", e);
            }
        }
    }

    void acquire(Connection connection, long waitedNanos) throws SQLException {
        Duration waited = Duration.ofNanos(Math.max(0, waitedNanos));
        for (ConnectionInterceptor i : all) {
            try {
                i.onAcquire(connection, waited);
            } catch (SQLException | RuntimeException e) {
                throw failure(i, "onAcquire", "the connection was evicted and not lent", e);
            }
        }
    }

    /** Null if every interceptor returned normally, else the first failure's description (the rest still run). */
    String release(Connection connection, long heldNanos) {
        Duration held = Duration.ofNanos(Math.max(0, heldNanos));
        String failed = null;
        for (int k = all.length - 1; k >= 0; k--) {
            try {
                all[k].onReturn(connection, held);
            } catch (SQLException | RuntimeException e) {
                LOG.warn("{} - interceptor {} failed in onReturn; the connection is evicted", poolName,
                        all[k].getClass().getName(), e);
                if (failed == null) {
                    failed = "interceptor " + all[k].getClass().getName() + " failed in onReturn: " + e;
                }
            }
        }
        return failed;
    }

    void destroy(Connection physical, String reason) {
        for (int k = all.length - 1; k >= 0; k--) {
            try {
                all[k].onDestroy(physical, reason);
            } catch (RuntimeException e) {
                LOG.warn("{} - interceptor {} failed in onDestroy", poolName, all[k].getClass().getName(), e);
            }
        }
    }

    private SQLException failure(ConnectionInterceptor i, String method, String outcome, Exception e) {
        String state = e instanceof SQLException s && s.getSQLState() != null ? s.getSQLState()
                : method.equals("onCreate") ? "08001" : "HY000";
        return new SQLException(poolName + " - interceptor " + i.getClass().getName() + " failed in " + method
                + " (" + outcome + "): " + e, state, e);
    }
}
