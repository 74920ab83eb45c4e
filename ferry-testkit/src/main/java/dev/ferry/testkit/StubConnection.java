package dev.ferry.testkit;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** A connection that keeps its state in fields and runs nothing. */
public final class StubConnection extends NeutralConnection {

    final StubDatabase db;
    private final AtomicBoolean closed = new AtomicBoolean();
    volatile boolean broken;
    private boolean autoCommit = true;
    private boolean readOnly;
    private int isolation = TRANSACTION_READ_COMMITTED;
    private String catalog = "stub";
    private String schema = "public";
    private int networkTimeout;
    /** A statement ran with autocommit off and no commit or rollback followed. */
    volatile boolean workSinceCommit;

    /** Who holds this connection now; tests set it to catch a connection lent to two borrowers. */
    public final AtomicReference<Object> holder = new AtomicReference<>();

    StubConnection(StubDatabase db) {
        this.db = db;
    }

    /** Breaks this connection as a dropped socket would: validation fails, statements fail with 08006. */
    public void breakConnection() {
        broken = true;
    }

    @Override
    public Statement createStatement() throws SQLException {
        checkOpen();
        return new StubStatement(this);
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        checkOpen();
        return new StubPreparedStatement(this);
    }

    private void checkOpen() throws SQLException {
        if (closed.get()) {
            throw new SQLException("stub connection is closed", "08003");
        }
    }

    @Override
    public boolean isValid(int timeout) {
        java.util.concurrent.CountDownLatch gate = db.validationGate;
        if (gate != null) {
            long millis = timeout * 1000L;
            if (networkTimeout > 0) {
                millis = Math.min(millis, networkTimeout);
            }
            try {
                if (!gate.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !closed.get() && !broken && !db.down;
    }

    @Override
    public void close() {
        java.util.concurrent.CountDownLatch gate = db.closeGate;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (closed.compareAndSet(false, true)) {
            db.closes.incrementAndGet();
            if (workSinceCommit) {
                db.committedOnClose.incrementAndGet();
            }
            db.open.decrementAndGet();
        }
    }

    /**
     * JDBC 4.3 request boundaries seen on this connection: requests begun and ended, and calls out of order (a
     * begin inside a request, an end outside one, or either on a closed connection). Plain fields: written by
     * the connection's borrower, read by tests after the pool took it back.
     */
    public int requestsBegun;
    public int requestsEnded;
    public int requestBoundaryMisuse;
    private boolean inRequest;

    @Override
    public void beginRequest() {
        if (inRequest || closed.get()) {
            requestBoundaryMisuse++;
        }
        inRequest = true;
        requestsBegun++;
    }

    @Override
    public void endRequest() {
        if (!inRequest || closed.get()) {
            requestBoundaryMisuse++;
        }
        inRequest = false;
        requestsEnded++;
    }

    /** Whether a request is open (begun and not ended). */
    public boolean inRequest() {
        return inRequest;
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (db.abortFails) {
            throw new java.sql.SQLFeatureNotSupportedException("abort is not supported by this stub", "0A000");
        }
        close();
    }

    @Override
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void commit() throws SQLException {
        checkOpen();
        workSinceCommit = false;
        db.commits.incrementAndGet();
    }

    @Override
    public void rollback() throws SQLException {
        checkOpen();
        workSinceCommit = false;
        db.rollbacks.incrementAndGet();
    }

    @Override
    public boolean getAutoCommit() {
        return autoCommit;
    }

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        checkOpen();
        if (autoCommit && !this.autoCommit) {
            workSinceCommit = false; // JDBC commits when autocommit is switched back on
        }
        this.autoCommit = autoCommit;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public void setReadOnly(boolean readOnly) {
        this.readOnly = readOnly;
    }

    @Override
    public int getTransactionIsolation() {
        return isolation;
    }

    @Override
    public void setTransactionIsolation(int level) {
        this.isolation = level;
    }

    @Override
    public String getCatalog() {
        return catalog;
    }

    @Override
    public void setCatalog(String catalog) {
        this.catalog = catalog;
    }

    @Override
    public String getSchema() throws SQLException {
        if (db.jdbc3Driver) {
            throw new AbstractMethodError("getSchema (JDBC 4.1)");
        }
        if (db.noSchemaSupport) {
            StubDatabase.unsupported("getSchema");
        }
        return schema;
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        if (db.jdbc3Driver) {
            throw new AbstractMethodError("setSchema (JDBC 4.1)");
        }
        if (db.noSchemaSupport) {
            StubDatabase.unsupported("setSchema");
        }
        this.schema = schema;
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        if (db.jdbc3Driver) {
            throw new AbstractMethodError("getNetworkTimeout (JDBC 4.1)");
        }
        if (db.noSchemaSupport) {
            StubDatabase.unsupported("getNetworkTimeout");
        }
        return networkTimeout;
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        if (db.jdbc3Driver) {
            throw new AbstractMethodError("setNetworkTimeout (JDBC 4.1)");
        }
        if (db.noSchemaSupport) {
            StubDatabase.unsupported("setNetworkTimeout");
        }
        this.networkTimeout = milliseconds;
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface);
    }
}
