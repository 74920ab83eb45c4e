package dev.ferry.pool;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A result set whose {@code getStatement()} returns the borrower's proxy (or null for metadata result sets),
 * whose errors reach the pool, and whose row changes count as work in the borrower's transaction.
 */
final class ProxyResultSet extends DelegatingResultSet {

    private final ProxyConnection connection;
    private final ProxyStatement statement;
    /** Counts the rows read, for the pool's SQL statistics; null when they are off. */
    private final dev.ferry.observe.SqlStatistics.Statement rowCounter;

    ProxyResultSet(ProxyConnection connection, ProxyStatement statement, ResultSet delegate,
                   dev.ferry.observe.SqlStatistics.Statement rowCounter) {
        super(delegate);
        this.connection = connection;
        this.statement = statement;
        this.rowCounter = rowCounter;
    }

    @Override
    public boolean next() throws SQLException {
        boolean row = super.next();
        if (row && rowCounter != null) {
            rowCounter.rowRead();
        }
        return row;
    }

    @Override
    SQLException onSqlException(SQLException e) {
        return connection.onSqlException(e);
    }

    @Override
    public Statement getStatement() throws SQLException {
        return statement;
    }

    @Override
    public void updateRow() throws SQLException {
        connection.beforeExecute();
        super.updateRow();
    }

    @Override
    public void insertRow() throws SQLException {
        connection.beforeExecute();
        super.insertRow();
    }

    @Override
    public void deleteRow() throws SQLException {
        connection.beforeExecute();
        super.deleteRow();
    }
}
