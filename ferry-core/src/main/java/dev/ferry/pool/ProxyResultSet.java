package dev.ferry.pool;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** A result set whose {@code getStatement()} returns the borrower's proxy, and whose errors reach the pool. */
final class ProxyResultSet extends DelegatingResultSet {

    private final ProxyStatement statement;

    ProxyResultSet(ProxyStatement statement, ResultSet delegate) {
        super(delegate);
        this.statement = statement;
    }

    @Override
    SQLException onSqlException(SQLException e) {
        return statement.onSqlException(e);
    }

    @Override
    public Statement getStatement() throws SQLException {
        return statement;
    }
}
