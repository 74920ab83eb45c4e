package dev.ferry;

import java.sql.SQLException;

/**
 * Thrown by {@code new FerryDataSource(config)} when the pool cannot start (the database cannot be reached within
 * initializationFailTimeout), as HikariCP's {@code new HikariDataSource(config)} throws its
 * {@code PoolInitializationException}. The cause is the {@link SQLException} that says why.
 */
public class PoolInitializationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PoolInitializationException(SQLException cause) {
        super(cause.getMessage(), cause);
    }

    @Override
    public synchronized SQLException getCause() {
        return (SQLException) super.getCause();
    }
}
