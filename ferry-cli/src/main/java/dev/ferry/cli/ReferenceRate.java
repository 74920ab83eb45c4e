package dev.ferry.cli;

import java.io.StringReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;

/**
 * What a scenario's throughput is judged against on PostgreSQL, measured in the same command after the pools ran
 * (alone, so it has the whole machine, as each pool had):
 * <ul>
 *   <li>{@code lookup}: the plain-JDBC ceiling for batched point lookups from Java: 10 platform threads, each on
 *       its own connection, running {@code SELECT id, balance FROM ferry_load_accounts WHERE id = ANY(?)} with 256
 *       random keys as a {@code Long[]}, rows decoded;
 *   <li>{@code ingest}: COPY of 100,000 event rows on one connection, the best of 5 after a warm-up (then
 *       deleted).
 * </ul>
 */
final class ReferenceRate {

    static final int THREADS = 10;
    static final int KEYS = 256;
    static final int COPY_ROWS = 100_000;
    static final int COPY_ROUNDS = 5;

    /** What was measured: its name, its rate, and the unit. */
    record Reference(String what, double perSecond, String unit) {
    }

    private ReferenceRate() {
    }

    /** The reference for {@code scenario}, or null where there is none (other scenarios, other databases). */
    static Reference measure(String url, Properties credentials, String scenario, long accounts, Duration duration)
            throws Exception {
        if (!url.startsWith("jdbc:postgresql:")) {
            return null;
        }
        if (scenario.equals("lookup")) {
            return new Reference("plain-JDBC ceiling (" + THREADS + " platform threads, each its own connection, a "
                    + KEYS + "-key = ANY(?) with a Long[] array, rows decoded)",
                    lookupCeiling(url, credentials, accounts, duration), "lookups/s");
        }
        if (scenario.equals("ingest")) {
            return new Reference("COPY of " + String.format(Locale.ROOT, "%,d", COPY_ROWS) + " rows on one connection, "
                    + "best of " + COPY_ROUNDS,
                    copy(url, credentials), "rows/s");
        }
        return null;
    }

    private static double lookupCeiling(String url, Properties credentials, long accounts, Duration duration)
            throws Exception {
        List<Connection> connections = new ArrayList<>();
        try {
            for (int i = 0; i < THREADS; i++) {
                connections.add(DriverManager.getConnection(url, credentials));
            }
            AtomicLong lookups = new AtomicLong();
            long warmEnd = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            long end = warmEnd + duration.toNanos();
            List<Thread> threads = new ArrayList<>();
            List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (Connection c : connections) {
                Thread t = new Thread(() -> {
                    try (PreparedStatement ps = c.prepareStatement(
                            "SELECT id, balance FROM ferry_load_accounts WHERE id = ANY(?)")) {
                        long now;
                        while ((now = System.nanoTime()) < end) {
                            Long[] keys = new Long[KEYS];
                            for (int k = 0; k < KEYS; k++) {
                                keys[k] = ThreadLocalRandom.current().nextLong(1, accounts + 1);
                            }
                            ps.setArray(1, c.createArrayOf("bigint", keys));
                            List<long[]> rows = new ArrayList<>(KEYS);
                            try (ResultSet rs = ps.executeQuery()) {
                                while (rs.next()) {
                                    rows.add(new long[] {rs.getLong(1), rs.getInt(2)});
                                }
                            }
                            if (now >= warmEnd && System.nanoTime() < end) {
                                lookups.addAndGet(KEYS);
                            }
                        }
                    } catch (SQLException e) {
                        failures.add(e);
                    }
                }, "ferry-ceiling");
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            if (!failures.isEmpty()) {
                throw failures.get(0);
            }
            return lookups.get() / (duration.toNanos() / 1e9);
        } finally {
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    /**
     * COPY into the table the pools wrote to, as they left it: one warm-up COPY of {@value #COPY_ROWS} rows, then
     * the best of {@value #COPY_ROUNDS} more (one COPY lasts a fraction of a second, and single runs vary by a
     * third on a small machine); the rows are deleted afterwards, which leaves dead tuples until autovacuum.
     */
    private static double copy(String url, Properties credentials) throws SQLException, java.io.IOException {
        long first = 9_000_000_000_000L; // far from the ids the pools wrote
        double best = 0;
        try (Connection c = DriverManager.getConnection(url, credentials)) {
            try {
                for (int round = 0; round <= COPY_ROUNDS; round++) {
                    long from = first + (long) round * COPY_ROWS;
                    StringBuilder data = new StringBuilder(COPY_ROWS * 32);
                    for (int i = 0; i < COPY_ROWS; i++) {
                        data.append(from + i).append('\t').append(i % 100_000 + 1).append("\t1\n");
                    }
                    long t0 = System.nanoTime();
                    c.unwrap(PGConnection.class).getCopyAPI().copyIn(
                            "COPY ferry_load_events (id, account, amount) FROM STDIN", new StringReader(data.toString()));
                    double rate = COPY_ROWS / ((System.nanoTime() - t0) / 1e9);
                    if (round > 0) { // round 0 warms up
                        best = Math.max(best, rate);
                    }
                }
            } catch (SQLException | java.io.IOException | RuntimeException e) {
                try (Statement s = c.createStatement()) {
                    s.execute("DELETE FROM ferry_load_events WHERE id >= " + first);
                } catch (SQLException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            try (Statement s = c.createStatement()) {
                s.execute("DELETE FROM ferry_load_events WHERE id >= " + first);
            }
            return best;
        }
    }

    /** Prints the reference and each pool's share of it. */
    static void print(java.io.PrintStream out, Reference reference, List<RunResult> results) {
        out.printf(Locale.ROOT, "reference: %s: %,.0f %s, measured alone after the pools%n", reference.what(),
                reference.perSecond(), reference.unit());
        for (RunResult r : results) {
            out.printf(Locale.ROOT, "  %s/reference: %.2f%n", r.pool(), r.throughputPerSecond() / reference.perSecond());
        }
    }

    /** The reference for the JSON report. */
    static Map<String, Object> toMap(Reference reference, List<RunResult> results) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("what", reference.what());
        m.put("per_s", reference.perSecond());
        m.put("unit", reference.unit());
        Map<String, Object> shares = new LinkedHashMap<>();
        for (RunResult r : results) {
            shares.put(r.pool(), r.throughputPerSecond() / reference.perSecond());
        }
        m.put("share", shares);
        return m;
    }
}
