package dev.ferry.testkit;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;

/** A prepared statement whose executions only count, and fail when the database injects a fault. */
final class StubPreparedStatement extends NeutralPreparedStatement {

    private final StubConnection connection;
    private boolean closed;

    StubPreparedStatement(StubConnection connection) {
        this.connection = connection;
    }

    @Override
    public ResultSet executeQuery() throws SQLException {
        connection.db.execute(connection);
        return new StubResultSet(this);
    }

    @Override
    public boolean execute() throws SQLException {
        connection.db.execute(connection);
        return false;
    }

    @Override
    public int executeUpdate() throws SQLException {
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
    }

    @Override
    public boolean isClosed() {
        return closed;
    }
}
