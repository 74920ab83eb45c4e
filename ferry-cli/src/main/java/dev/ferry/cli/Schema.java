package dev.ferry.cli;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * The load tables, created and filled like {@code pgbench -i}: {@code scale} x 100,000 accounts, and an events
 * table for writes. Filling is skipped when the accounts table already has the right size.
 */
final class Schema {

    static final int ROWS_PER_SCALE = 100_000;
    static final String READ_SQL = "SELECT id, balance FROM ferry_load_accounts WHERE id = ?";
    static final String LOOKUP_SQL = "SELECT id, balance FROM ferry_load_accounts WHERE id IN (:keys)";
    static final String WRITE_SQL = "INSERT INTO ferry_load_events (id, account, amount) VALUES (?, ?, ?)";

    private Schema() {
    }

    /** Creates and fills the tables; returns the number of accounts. */
    static long prepare(Connection c, int scale) throws SQLException {
        long rows = (long) scale * ROWS_PER_SCALE;
        String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_load_accounts (id BIGINT PRIMARY KEY, balance INT NOT NULL, "
                    + "filler CHAR(84))");
            s.execute("CREATE TABLE IF NOT EXISTS ferry_load_events (id BIGINT PRIMARY KEY, account BIGINT NOT NULL, "
                    + "amount INT NOT NULL)");
            long have;
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_load_accounts")) {
                rs.next();
                have = rs.getLong(1);
            }
            if (have == rows) {
                return rows;
            }
            s.execute("DELETE FROM ferry_load_accounts");
            if (product.contains("postgres")) {
                s.execute("INSERT INTO ferry_load_accounts SELECT g, 0, '' FROM generate_series(1, " + rows + ") g");
                s.execute("ANALYZE ferry_load_accounts");
            } else if (product.contains("h2")) {
                s.execute("INSERT INTO ferry_load_accounts SELECT X, 0, '' FROM SYSTEM_RANGE(1, " + rows + ")");
            } else {
                fillWithBatches(c, rows);
            }
        }
        if (!c.getAutoCommit()) {
            c.commit();
        }
        return rows;
    }

    private static void fillWithBatches(Connection c, long rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO ferry_load_accounts VALUES (?, 0, '')")) {
            for (long i = 1; i <= rows; i++) {
                ps.setLong(1, i);
                ps.addBatch();
                if (i % 1000 == 0) {
                    ps.executeBatch();
                }
            }
            ps.executeBatch();
        }
    }

    /** Empties the events table and returns the first free event id. */
    static long resetEvents(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DELETE FROM ferry_load_events");
        }
        return 1;
    }
}
