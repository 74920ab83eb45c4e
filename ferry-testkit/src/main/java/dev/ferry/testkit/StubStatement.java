package dev.ferry.testkit;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;

/** A statement whose executions only count, and fail when the database injects a fault. */
final class StubStatement extends NeutralStatement {

    private final StubConnection connection;
    private boolean closed;

    StubStatement(StubConnection connection) {
        this.connection = connection;
    }

    @Override
    public ResultSet executeQuery(String sql) throws SQLException {
        connection.db.execute(connection);
        return new StubResultSet(this);
    }

    @Override
    public boolean execute(String sql) throws SQLException {
        connection.db.execute(connection);
        return false;
    }

    @Override
    public int executeUpdate(String sql) throws SQLException {
        connection.db.execute(connection);
        return 1;
    }

    @Override
    public void setQueryTimeout(int seconds) {
    }

    @Override
    public Connection getConnection() {
        return connection;
    }

    @Override
    public void close() {
        closed = true;
        if (connection.db.statementCloseFails) {
            throw new IllegalStateException("injected failure closing a statement");
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }
}
