package dev.ferry.batch;

import dev.ferry.batch.BatchedWriter.Write;
import dev.ferry.batch.BatchedWriter.Written;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZonedDateTime;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A writer's batch on PostgreSQL as one statement per batch ({@link PostgresArrayInsert}): each parameter's values
 * from every row go as one typed array, so a batch of 1,000 rows is one round trip and one executor call without
 * any driver option ({@code reWriteBatchedInserts} rewrites into multi-row VALUES, with its own limits).
 *
 * <p>What stays as it is with plain JDBC batches:
 * <ul>
 *   <li>Acknowledged after COMMIT, in one transaction ({@link Transactions}), and a binder that throws fails only
 *       its own write.
 *   <li>Row errors: a statement that fails for a row's reason (23xxx, 22xxx) fails whole, so the batcher splits the
 *       batch and retries the halves, as for any batch, until each bad row fails alone. A one-row statement that
 *       fails with a data error (22xxx) is run again as a plain JDBC batch before the error is believed, so a
 *       value this class turned into array text differently from the driver never fails a good row.
 *   <li>Generated keys: the rows are inserted in the arrays' order ({@code WITH ORDINALITY ... ORDER BY}), and
 *       PostgreSQL returns them in insertion order, so the i-th key is the i-th row's (checked by count: a
 *       mismatch sends the batch as a plain JDBC batch instead).
 * </ul>
 *
 * <p>What changes: update counts. A plain INSERT or an always-writing upsert reports 1 per row. For DO NOTHING or
 * DO UPDATE ... WHERE, a statement whose total is all or none of its rows says 1 or 0 for each; any other total
 * cannot be pinned on rows, and each gets {@link Statement#SUCCESS_NO_INFO}, as with a rewriting driver. A writer
 * that needs exact counts for such statements sets {@code postgresArrays(false)}.
 *
 * <p>Column types are the server's: the one-row statement is described once ({@code ParameterMetaData}), and each
 * parameter's array is cast to its type. Numbers, booleans, strings and byte arrays go as typed arrays; dates,
 * times, UUIDs, BigDecimal and the like as their text form, which the server parses as the column's type.
 *
 * <p>When this cannot work for a writer (an array column, a value type with no text form, a binder that uses a
 * stream, a statement the server does not accept in this form), the batch is rolled back before anything is
 * committed ({@link Refused}) and sent as a plain JDBC batch; the writer keeps doing so from then on, having
 * logged why once.
 */
final class PostgresArrayWrites {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PostgresArrayWrites.class);

    /** Element types sent as typed arrays, by the Java class their values must all have. */
    private static final Map<String, Class<?>> TYPED = Map.ofEntries(
            Map.entry("int8", Long.class), Map.entry("int4", Integer.class), Map.entry("int2", Short.class),
            Map.entry("float8", Double.class), Map.entry("float4", Float.class), Map.entry("bool", Boolean.class),
            Map.entry("text", String.class), Map.entry("varchar", String.class), Map.entry("bpchar", String.class),
            Map.entry("bytea", byte[].class));
    private static final Set<Class<?>> TEXT_FORM = Set.of(String.class, Long.class, Integer.class, Short.class,
            Byte.class, Double.class, Float.class, Boolean.class, UUID.class, Character.class,
            java.math.BigInteger.class);

    /** This batch cannot be sent as arrays; it was rolled back, and goes as a plain JDBC batch. */
    static final class Refused extends SQLException {
        private static final long serialVersionUID = 1L;
        /** Whether no later batch of this writer can be sent as arrays either. */
        final boolean permanent;

        Refused(String why, boolean permanent) {
            super(why, "0A000");
            this.permanent = permanent;
        }

        Refused(String why, boolean permanent, Throwable cause) {
            super(why, "0A000", cause);
            this.permanent = permanent;
        }
    }

    private final PostgresArrayInsert insert;
    private final String writer;
    /** Per parameter: the element type as the server named it, and as written in SQL (quoted where needed). */
    private final AtomicReference<String[][]> types = new AtomicReference<>();
    private volatile String refusedBecause;

    private PostgresArrayWrites(PostgresArrayInsert insert, String writer) {
        this.insert = insert;
        this.writer = writer;
    }

    /** Array writes for {@code sql}, or null (logged once, at build) when the statement cannot take them. */
    static PostgresArrayWrites of(String sql, String writer) {
        try {
            return new PostgresArrayWrites(PostgresArrayInsert.of(sql), writer);
        } catch (PostgresArrayInsert.NotApplicable e) {
            LOG.debug("writer '{}': on PostgreSQL its batches go as plain JDBC batches: {}", writer, e.getMessage());
            return null;
        }
    }

    /** False once a batch was refused for a reason that holds for every batch. */
    boolean usable() {
        return refusedBecause == null;
    }

    /** Why the writer no longer sends arrays, or null. */
    String refusedBecause() {
        return refusedBecause;
    }

    /** Records a refusal; a permanent one turns array writes off for this writer, logged once. */
    void refused(Refused r) {
        if (!r.permanent) {
            LOG.debug("writer '{}': one batch sent as a plain JDBC batch: {}", writer, r.getMessage());
            return;
        }
        synchronized (this) {
            if (refusedBecause != null) {
                return;
            }
            refusedBecause = r.getMessage();
        }
        LOG.warn("writer '{}': batches go as plain JDBC batches from now on, not as PostgreSQL arrays: {}", writer,
                r.getMessage());
    }

    /**
     * Runs one batch in one transaction, as {@link BatchedWriter#executeInTransaction} does, but with one
     * statement per round ({@link PostgresArrayInsert#rounds}).
     *
     * @throws Refused                 before COMMIT, rolled back: send the batch as a plain JDBC batch
     * @throws OutcomeUnknownException if COMMIT failed in a way that does not say it rolled back
     * @throws SQLException            the batch's own error (then nothing committed)
     */
    <R> Map<Write<R>, Written> executeInTransaction(Connection c, ParameterBinder<R> binder, List<Write<R>> writes,
                                                   int queryTimeoutSeconds, String keyColumn) throws SQLException {
        String[][] elementTypes = types(c);
        KeyedResult<Write<R>, Written> out = new KeyedResult<>(writes.size());
        return Transactions.run(c, () -> {
            CapturingStatement capture = new CapturingStatement(insert.params(), c);
            List<Write<R>> sent = new ArrayList<>(writes.size());
            List<Object[]> rows = new ArrayList<>(writes.size());
            for (Write<R> w : writes) {
                try {
                    binder.bind(capture.statement, w.request);
                    rows.add(capture.row());
                    sent.add(w);
                } catch (SQLException | RuntimeException e) {
                    Refused refused = refusal(e);
                    if (refused != null) {
                        throw refused;
                    }
                    out.fail(w, new SQLException("the binder failed for this write, which was not sent: " + e,
                            sqlState(e), e));
                    capture.clear(); // nothing it set may leak into the next write's row
                }
            }
            if (sent.isEmpty()) {
                return out;
            }
            for (int[] round : insert.rounds(rows)) {
                run(c, round, rows, sent, elementTypes, queryTimeoutSeconds, keyColumn, out);
            }
            return out; // completed only once COMMIT returned (Transactions.run)
        }, result -> !result.isEmpty());
    }

    private static String sqlState(Throwable e) {
        return e instanceof SQLException x && x.getSQLState() != null ? x.getSQLState() : "HY000";
    }

    private <R> void run(Connection c, int[] round, List<Object[]> rows, List<Write<R>> sent, String[][] elementTypes,
                         int queryTimeoutSeconds, String keyColumn, KeyedResult<Write<R>, Written> out)
            throws SQLException {
        String sql = insert.sql(elementTypes[1], keyColumn != null);
        try (PreparedStatement ps = keyColumn == null ? c.prepareStatement(sql)
                : c.prepareStatement(sql, new String[] {keyColumn})) {
            ps.setQueryTimeout(queryTimeoutSeconds);
            for (int p = 0; p < elementTypes[0].length; p++) {
                ps.setArray(p + 1, column(c, elementTypes[0][p], rows, round, p));
            }
            int total;
            try {
                total = ps.executeUpdate();
            } catch (SQLException e) {
                throw unlessRowError(e, round.length);
            }
            List<Long> keys = new ArrayList<>(round.length);
            if (keyColumn != null) {
                try (ResultSet rs = ps.getGeneratedKeys()) {
                    while (rs.next()) {
                        keys.add(rs.getLong(1));
                    }
                }
                if (keys.size() != round.length) {
                    throw new Refused("the statement returned " + keys.size() + " generated keys for "
                            + round.length + " rows (a trigger or rule skipped some), so keys cannot be matched to "
                            + "rows", false);
                }
            }
            // All rows or none: 1 or 0 each. Any other total (rows skipped by DO NOTHING, a WHERE, a trigger)
            // cannot be pinned on rows.
            int each = total == round.length ? 1 : total == 0 ? 0 : Statement.SUCCESS_NO_INFO;
            for (int i = 0; i < round.length; i++) {
                out.put(sent.get(round[i]), new Written(each, keyColumn == null ? null : keys.get(i)));
            }
        }
    }

    /**
     * The error of a statement that failed: a row's own error as it is (the batcher isolates it), else a refusal.
     * Refused: what the plain batch may not hit (an error in how the statement was rewritten, class 42 or 0A;
     * the same key updated twice, 21000), and a one-row data error (22xxx), which the plain batch confirms.
     */
    private static SQLException unlessRowError(SQLException e, int rows) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("42") || state.startsWith("0A")) {
            return new Refused("PostgreSQL did not accept the batch as arrays: " + e.getMessage(), true, e);
        }
        if (state.equals("21000")) {
            return new Refused("two rows of the batch updated the same row: " + e.getMessage(), false, e);
        }
        if (state.startsWith("22") && rows == 1) {
            return new Refused("a one-row data error is confirmed with the driver's own binding: "
                    + e.getMessage(), false, e);
        }
        return e;
    }

    /** The refusal in {@code e}'s causes (a binder may wrap what the capturing statement threw), or null. */
    private static Refused refusal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Refused r) {
                return r;
            }
        }
        return null;
    }

    /** Each parameter's element type, from the server's description of the one-row statement (once). */
    private String[][] types(Connection c) throws SQLException {
        String[][] known = types.get();
        if (known != null) {
            return known;
        }
        String[] names = new String[insert.params()];
        String[] written = new String[names.length];
        try (PreparedStatement ps = c.prepareStatement(insert.oneRowSql())) {
            ParameterMetaData meta = ps.getParameterMetaData();
            if (meta.getParameterCount() != names.length) {
                throw new Refused("the server counts " + meta.getParameterCount() + " parameters, Ferry "
                        + names.length, true);
            }
            for (int p = 0; p < names.length; p++) {
                String name = meta.getParameterTypeName(p + 1);
                if (name == null || name.isEmpty() || name.equals("unknown")) {
                    throw new Refused("the server did not say the type of parameter " + (p + 1), true);
                }
                if (name.startsWith("_")) {
                    throw new Refused("parameter " + (p + 1) + " is an array (" + name + "), which unnest would "
                            + "flatten", true);
                }
                names[p] = name;
                written[p] = name.matches("[a-z_][a-z0-9_]*") || name.contains("\"") ? name
                        : '"' + name.replace("\"", "\"\"") + '"';
            }
        } catch (Refused r) {
            throw r;
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("08") || state.startsWith("57")) {
                throw e; // the connection, not the statement: the batcher handles it as for any batch
            }
            throw new Refused("the server could not describe the statement: " + e.getMessage(), true, e);
        }
        String[][] both = {names, written};
        types.compareAndSet(null, both);
        return both;
    }

    /** One parameter's values from the rows of {@code round}, as an array of its element type. */
    private static Array column(Connection c, String elementType, List<Object[]> rows, int[] round, int p)
            throws SQLException {
        Class<?> typed = TYPED.get(elementType);
        boolean allTyped = typed != null;
        for (int r : round) {
            Object v = rows.get(r)[p];
            if (v != null && v.getClass() != typed) {
                allTyped = false;
                break;
            }
        }
        if (allTyped) {
            Object[] values = typed == byte[].class ? new byte[round.length][] : (Object[]) java.lang.reflect.Array
                    .newInstance(typed, round.length);
            for (int i = 0; i < round.length; i++) {
                values[i] = rows.get(round[i])[p];
            }
            return array(c, elementType, values);
        }
        String[] text = new String[round.length];
        for (int i = 0; i < round.length; i++) {
            text[i] = text(rows.get(round[i])[p], elementType, p);
        }
        return array(c, elementType, text);
    }

    private static Array array(Connection c, String elementType, Object[] values) throws SQLException {
        try {
            return c.createArrayOf(elementType, values);
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("08")) {
                throw e;
            }
            throw new Refused("the driver could not make a " + elementType + " array: " + e.getMessage(), true, e);
        }
    }

    /** A value's text form, which the server parses as {@code elementType}. */
    private static String text(Object v, String elementType, int p) throws Refused {
        if (v == null) {
            return null;
        }
        if (TEXT_FORM.contains(v.getClass())) {
            return v.toString();
        }
        if (v instanceof BigDecimal d) {
            return d.toPlainString();
        }
        if (v instanceof java.sql.Timestamp t) { // what pgjdbc sends: the instant, or the local date-time
            return elementType.equals("timestamptz") ? t.toInstant().toString() : t.toLocalDateTime().toString();
        }
        if (v instanceof java.sql.Date d) {
            return d.toLocalDate().toString();
        }
        if (v instanceof java.sql.Time t) {
            return t.toLocalTime().toString();
        }
        if (v instanceof ZonedDateTime z) {
            return z.toOffsetDateTime().toString(); // PostgreSQL does not read the [zone id] suffix
        }
        if (v instanceof TemporalAccessor && v.getClass().getName().startsWith("java.time.")) {
            return v.toString(); // ISO-8601, which PostgreSQL reads (LocalDate, LocalDateTime, OffsetDateTime, ...)
        }
        if (v instanceof Enum<?> e) {
            return e.name();
        }
        if (v.getClass().getName().startsWith("org.postgresql.")) { // PGobject and its kind: json, inet, money ...
            try {
                Object value = v.getClass().getMethod("getValue").invoke(v);
                if (value == null || value instanceof String) {
                    return (String) value;
                }
            } catch (ReflectiveOperationException e) {
                // fall through to the refusal
            }
        }
        throw new Refused("parameter " + (p + 1) + " holds a " + v.getClass().getName() + ", which Ferry cannot "
                + "put in a " + elementType + " array", true);
    }
}
