package dev.ferry.pool;

import static dev.ferry.pool.StatementTiming.BATCH;
import static dev.ferry.pool.StatementTiming.COUNT;
import static dev.ferry.pool.StatementTiming.LARGE_BATCH;
import static dev.ferry.pool.StatementTiming.LARGE_COUNT;
import static dev.ferry.pool.StatementTiming.NONE;
import static dev.ferry.pool.StatementTiming.timed;

import dev.ferry.observe.SqlStatistics;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A {@link ProxyPreparedStatement} whose executes are timed into the pool's SQL statistics under the SQL it was
 * prepared with (looked up once, at prepare). Handed out only while statistics are on.
 */
final class TimedPreparedStatement extends ProxyPreparedStatement {

    private final SqlStatistics.Statement statement;

    TimedPreparedStatement(ProxyConnection connection, PreparedStatement delegate, SqlStatistics.Statement statement) {
        super(connection, delegate);
        this.statement = statement;
    }

    @Override
    SqlStatistics.Statement rowCounter() {
        return statement;
    }

    @Override
    public boolean execute() throws SQLException {
        return timed(connection.pool, statement, super::execute, NONE);
    }

    @Override
    public ResultSet executeQuery() throws SQLException {
        return timed(connection.pool, statement, super::executeQuery, NONE);
    }

    @Override
    public int executeUpdate() throws SQLException {
        return timed(connection.pool, statement, super::executeUpdate, COUNT);
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        return timed(connection.pool, statement, super::executeLargeUpdate, LARGE_COUNT);
    }

    @Override
    public int[] executeBatch() throws SQLException {
        return timed(connection.pool, statement, super::executeBatch, BATCH);
    }

    @Override
    public long[] executeLargeBatch() throws SQLException {
        return timed(connection.pool, statement, super::executeLargeBatch, LARGE_BATCH);
    }
}
