package dev.ferry;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A view of a Ferry pool that borrows at one priority ({@link FerryDataSource#forPriority}), in one lane
 * ({@link FerryDataSource#lane}), or both ({@link #forPriority}); or read-only connections from the replicas
 * ({@link FerryDataSource#reads}), at a priority.
 */
public final class DataSourceView implements DataSource {

    private final FerryDataSource pool;
    private final Priority priority;
    /** Null: the main lane. */
    private final String lane;
    /** Read-only connections, from a replica when one is usable (no lane then). */
    private final boolean reads;

    DataSourceView(FerryDataSource pool, Priority priority, String lane) {
        this(pool, priority, lane, false);
    }

    private DataSourceView(FerryDataSource pool, Priority priority, String lane, boolean reads) {
        this.pool = pool;
        this.priority = priority;
        this.lane = lane;
        this.reads = reads;
    }

    /** {@link FerryDataSource#reads()}. */
    static DataSourceView reads(FerryDataSource pool) {
        return new DataSourceView(pool, Priority.NORMAL, null, true);
    }

    /**
     * The lane, looked up at the first borrow after the pool has started and kept (a lane's settings may change;
     * the lane stays). A pool without lanes has none: the main lane's view then borrows from the pool itself.
     */
    private volatile dev.ferry.capacity.LaneBudget.Slot slot;

    @Override
    public Connection getConnection() throws SQLException {
        if (reads) {
            return pool.readConnection(priority, null);
        }
        if (lane == null) {
            return pool.getConnection(priority);
        }
        dev.ferry.capacity.LaneBudget.Slot s = slot;
        dev.ferry.pool.ConnectionPool p = pool.started();
        if (s == null) {
            s = p.laneSlot(lane);
            if (s == null) {
                return p.getConnection(priority); // no lanes configured, and this is the main lane
            }
            slot = s;
        }
        return p.getConnection(s, priority);
    }

    /**
     * Borrows as {@link #getConnection()} does, waiting at most {@code maxWait} instead of connectionTimeout (batched
     * lookups on this view give each batch its callers' remaining time). A lane view waits as
     * {@code getConnection()} does.
     */
    public Connection getConnection(java.time.Duration maxWait) throws SQLException {
        java.util.Objects.requireNonNull(maxWait, "maxWait");
        if (reads) {
            return pool.readConnection(priority, maxWait);
        }
        if (lane == null) {
            return pool.started().getConnection(priority, maxWait);
        }
        return getConnection();
    }

    /** Whether this is a {@link FerryDataSource#reads()} view. */
    public boolean isReads() {
        return reads;
    }

    /** The same lane (or reads) at another priority. */
    public DataSourceView forPriority(Priority priority) {
        return new DataSourceView(pool, java.util.Objects.requireNonNull(priority, "priority"), lane, reads);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new java.sql.SQLFeatureNotSupportedException("getConnection(username, password) is served by the "
                + "FerryDataSource itself (with perUserPoolSize), not by a lane, priority or reads view: lanes, "
                + "priorities and read routing apply to the main pool's connections only");
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return pool.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        pool.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        pool.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return pool.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return pool.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return iface.isInstance(this) ? iface.cast(this) : pool.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || pool.isWrapperFor(iface);
    }

    @Override
    public String toString() {
        return "FerryDataSource(" + (reads ? "reads, " : lane == null ? "" : "lane " + lane + ", ") + priority + ")"
                + pool;
    }
}
