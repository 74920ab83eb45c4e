package dev.ferry.pool;

import dev.ferry.observe.SqlStatistics;
import java.sql.SQLException;

/**
 * Times one execute call for the pool's SQL statistics: used by {@link TimedStatement} and
 * {@link TimedPreparedStatement}, which the pool hands out instead of the plain proxies only while statistics are
 * on, so a pool without them times nothing.
 */
final class StatementTiming {

    /** An execute call of the driver's statement. */
    @FunctionalInterface
    interface Execute<T> {
        T run() throws SQLException;
    }

    /** Rows an execute call's result says it changed (0 for a query: its rows count as they are read). */
    @FunctionalInterface
    interface Rows<T> {
        long of(T result);
    }

    static final Rows<Object> NONE = r -> 0;
    static final Rows<Integer> COUNT = r -> Math.max(0, r);
    static final Rows<Long> LARGE_COUNT = r -> Math.max(0, r);
    static final Rows<int[]> BATCH = counts -> {
        long n = 0;
        for (int c : counts) {
            n += Math.max(0, c);
        }
        return n;
    };
    static final Rows<long[]> LARGE_BATCH = counts -> {
        long n = 0;
        for (long c : counts) {
            n += Math.max(0, c);
        }
        return n;
    };

    private StatementTiming() {
    }

    /** Runs {@code call}, recording its time, rows and failure under {@code statement}. */
    @SuppressWarnings("unchecked")
    static <T> T timed(ConnectionPool pool, SqlStatistics.Statement statement, Execute<T> call, Rows<? super T> rows)
            throws SQLException {
        long start = pool.statementClock();
        T result = null;
        boolean failed = true;
        try {
            result = call.run();
            failed = false;
            return result;
        } finally {
            long rowsChanged = failed || result == null ? 0 : ((Rows<T>) rows).of(result);
            pool.executed(statement, pool.statementClock() - start, rowsChanged, failed);
        }
    }
}
