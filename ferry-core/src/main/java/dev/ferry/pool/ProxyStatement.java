package dev.ferry.pool;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A statement lent with a {@link ProxyConnection}. It reports driver errors to the connection (so a broken
 * connection is retired), tells it when work runs (so an open transaction is rolled back on return), and hands
 * out result sets whose {@code getStatement()} is this proxy, never the driver's object.
 */
class ProxyStatement extends DelegatingStatement {

    final ProxyConnection connection;
    /**
     * Written by whichever thread closes it; read by the connection's close and by list compaction. Plain, not
     * volatile (this is on every statement's path): a stale read only closes a closed statement again, which
     * JDBC defines as doing nothing, or keeps a closed one in the list until the next compaction.
     */
    private boolean closed;

    ProxyStatement(ProxyConnection connection, Statement delegate) {
        super(delegate);
        this.connection = connection;
    }

    @Override
    final SQLException onSqlException(SQLException e) {
        return connection.onSqlException(e);
    }

    @Override
    final void beforeExecute() throws SQLException {
        connection.enterStatement(this);
    }

    @Override
    final void afterExecute() {
        connection.exitStatement();
    }

    @Override
    final ResultSet wrap(ResultSet resultSet) {
        return resultSet == null ? null : new ProxyResultSet(connection, this, resultSet, rowCounter());
    }

    /** Where rows read through this statement's result sets are counted: none, unless SQL statistics are on. */
    dev.ferry.observe.SqlStatistics.Statement rowCounter() {
        return null;
    }

    @Override
    public final Connection getConnection() throws SQLException {
        if (closed) {
            throw new SQLException("Statement is closed", "HY010");
        }
        return connection;
    }

    @Override
    public final void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        connection.untrack(this);
        super.close();
    }

    boolean isClosedByBorrower() {
        return closed;
    }

    /** Closes on the pool's behalf when the connection is returned; the connection forgets it itself. */
    final void closeByPool() throws SQLException {
        if (!closed) {
            closed = true;
            delegate.close();
        }
    }

    @Override
    public String toString() {
        return "FerryStatement{" + delegate + "}";
    }
}
