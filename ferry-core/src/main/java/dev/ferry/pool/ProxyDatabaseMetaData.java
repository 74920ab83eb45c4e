package dev.ferry.pool;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Metadata whose {@code getConnection()} returns the borrower's proxy rather than the physical connection, which
 * stops working when that proxy is closed (the physical connection may by then belong to another borrower),
 * and whose result sets are wrapped so that they cannot reach the physical connection either.
 */
final class ProxyDatabaseMetaData extends DelegatingDatabaseMetaData {

    private final ProxyConnection connection;

    ProxyDatabaseMetaData(ProxyConnection connection, DatabaseMetaData delegate) {
        super(delegate);
        this.connection = connection;
    }

    @Override
    SQLException onSqlException(SQLException e) {
        return connection.onSqlException(e);
    }

    @Override
    DatabaseMetaData open() throws SQLException {
        if (connection.isClosedByPool()) {
            throw new SQLException("Connection is closed: this metadata belongs to a connection returned to "
                    + "the pool", "08003");
        }
        return delegate;
    }

    @Override
    ResultSet wrap(ResultSet resultSet) {
        if (resultSet == null) {
            return null;
        }
        connection.beforeExecute(); // metadata queries run in the borrower's transaction on some drivers
        return new ProxyResultSet(connection, null, resultSet, null);
    }

    @Override
    public Connection getConnection() throws SQLException {
        open();
        return connection;
    }
}
