package dev.ferry.pool;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;

/** Metadata whose {@code getConnection()} returns the borrower's proxy rather than the physical connection. */
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
    public Connection getConnection() {
        return connection;
    }
}
