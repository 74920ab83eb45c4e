package dev.ferry.spring;

import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The pool's state for Actuator's health endpoint ({@code ferry}): DOWN when closed, OUT_OF_SERVICE while
 * suspended or not ready (a warm-up was asked for and none has reached its target yet, see
 * {@link FerryDataSource#isReady()}), UP otherwise, with the figures an operator acts on (ready, total, active,
 * idle, waiting, maximum, cap, overloaded, oldest wait, reserve uses). It reads the pool's counters only: the
 * {@code db} indicator already runs a query. A pool not started yet (lazily, at its first borrow) is UP with
 * {@code started=false}. Add it to the readiness group ({@code management.endpoint.health.group.readiness.include=
 * readinessState,ferry}) to keep traffic away until the warm-up is done.
 */
public class FerryHealthIndicator extends AbstractHealthIndicator {

    private final FerryDataSource dataSource;

    public FerryHealthIndicator(FerryDataSource dataSource) {
        super("Ferry pool health check failed");
        this.dataSource = dataSource;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) throws Exception {
        if (dataSource.isClosed()) {
            builder.down().withDetail("pool", dataSource.getPoolName()).withDetail("closed", true);
            return;
        }
        if (!dataSource.isRunning()) {
            builder.up().withDetail("pool", dataSource.getPoolName()).withDetail("started", false);
            return;
        }
        FerryPool pool = dataSource.unwrap(FerryPool.class);
        boolean ready = pool.isReady();
        (ready ? builder.up() : builder.outOfService())
                .withDetail("pool", pool.poolName())
                .withDetail("ready", ready)
                .withDetail("total", pool.totalConnections())
                .withDetail("active", pool.activeConnections())
                .withDetail("idle", pool.idleConnections())
                .withDetail("waiting", pool.waitingThreads())
                .withDetail("maximumPoolSize", pool.maximumPoolSize())
                .withDetail("cap", pool.connectionCap())
                .withDetail("overloaded", pool.isOverloaded())
                .withDetail("oldestWaitMs", pool.oldestWait().toMillis())
                .withDetail("reserveUses", pool.reserveUses());
    }
}
