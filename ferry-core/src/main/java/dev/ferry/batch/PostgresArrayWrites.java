package dev.ferry.batch;

import dev.ferry.batch.BatchedWriter.Write;
import dev.ferry.batch.BatchedWriter.Written;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A writer's batch on PostgreSQL as one statement ({@link PostgresArrayInsert}): each parameter's values from
 * every row go as one typed array, so a batch of 1,000 rows is one round trip without any driver option
 * ({@code reWriteBatchedInserts} rewrites into multi-row VALUES, with its own limits).
 *
 * <p><b>Typed as the driver types them.</b> pgjdbc gives each parameter the type of the setter the binder used
 * ({@code setLong}: int8, {@code setBigDecimal}: numeric, {@code setString}: varchar, {@code setObject} with an
 * OffsetDateTime: timestamptz, ...), and the server converts it to the column's type, or evaluates the
 * expression around it, from there. Each array has that same element type, so {@code ? / 2} with a BigDecimal
 * divides as numeric, a double stored in a numeric column is rounded as the server rounds a float8, and a string
 * for a uuid column is refused (42804) as pgjdbc's own binding is. A parameter null in every row of a batch takes
 * the type pgjdbc gives its null (the setter's, or {@code setNull}'s SQL type). The values pgjdbc sends without a
 * type and lets the server infer must be a bare {@code ?}: a {@code setTimestamp} or {@code setDate} value of a
 * date or timestamp column, or a null untyped in every row of the batch (any column). The array goes as the text
 * pgjdbc would send (the JVM zone's offset at that instant, microseconds rounded half up, {@code infinity}), cast
 * to the column's type, read from the catalog under the statement timeout (once, and again when a column is
 * missing; a column whose type changes while the writer runs keeps its old cast until then).
 *
 * <p>What stays as it is with plain JDBC batches:
 * <ul>
 *   <li>Acknowledged after COMMIT, in one transaction ({@link Transactions}), and a binder that throws fails only
 *       its own write.
 *   <li>Row errors: a statement that fails for a row's reason (23xxx, 22xxx) fails whole, so the batcher splits the
 *       batch and retries the halves, as for any batch, until each bad row fails alone. A one-row statement that
 *       fails with a data error (22xxx) is run again as a plain JDBC batch before the error is believed.
 *   <li>Generated keys: the rows are inserted in the arrays' order ({@code WITH ORDINALITY ... ORDER BY}), and
 *       PostgreSQL returns them in insertion order, so the i-th key is the i-th row's (checked by count: a
 *       mismatch sends the batch as a plain JDBC batch instead).
 *   <li>Deadlines: every statement (each round, the catalog read) gets the time left until the batch's deadline.
 * </ul>
 *
 * <p>What changes: update counts. A statement whose total is all or none of its rows says 1 or 0 for each row;
 * any other total (DO NOTHING or DO UPDATE ... WHERE skipped some, or a trigger did) cannot be pinned on rows, and
 * each gets {@link Statement#SUCCESS_NO_INFO}, as with a rewriting driver. A writer that needs exact counts for
 * such statements sets {@code postgresArrays(false)}.
 *
 * <p><b>Falling back.</b> When a batch cannot go as arrays ({@link Refused}), it is rolled back before anything
 * is committed and the writer sends it as a plain JDBC batch; the binder then runs a second time for those
 * writes. If the rollback itself failed, the batch fails instead (no COMMIT was sent). What the refusal means for
 * later batches depends on its {@link Refused.Scope}: what the binder does or the table is (a stream, a target
 * SQL type, an array column, a value class with no array type) turns arrays off at once; a statement the server
 * refused in this form, or a one-row data error, turns them off once the plain batch succeeds where the arrays
 * failed; something in one batch's data (a year outside 1 to 9999, untyped nulls in an expression, two keys SQL
 * finds equal and Java does not) leaves them on, until the tenth such batch. Turning off is logged once, as a WARN.
 */
final class PostgresArrayWrites {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PostgresArrayWrites.class);

    /** The element type pgjdbc binds a value of each class as (its setter's or setObject's type). */
    private static final Map<Class<?>, String> DRIVER_TYPES = Map.ofEntries(
            Map.entry(Long.class, "int8"), Map.entry(Integer.class, "int4"), Map.entry(Short.class, "int2"),
            Map.entry(Byte.class, "int2"), Map.entry(Boolean.class, "bool"), Map.entry(Double.class, "float8"),
            Map.entry(Float.class, "float4"), Map.entry(BigDecimal.class, "numeric"),
            Map.entry(BigInteger.class, "numeric"), Map.entry(String.class, "varchar"),
            Map.entry(Character.class, "varchar"), Map.entry(byte[].class, "bytea"), Map.entry(UUID.class, "uuid"),
            Map.entry(LocalDate.class, "date"), Map.entry(LocalDateTime.class, "timestamp"),
            Map.entry(OffsetDateTime.class, "timestamptz"), Map.entry(LocalTime.class, "time"));
    /** The column types (as format_type names them) an untyped Timestamp or Date may be sent to as text. */
    private static final java.util.Set<String> DATE_TIME_COLUMNS = java.util.Set.of("date",
            "timestamp without time zone", "timestamp with time zone");
    /** Arrays pgjdbc encodes from these Java element classes directly. */
    private static final Map<String, Class<?>> NATIVE = Map.of("int8", Long.class, "int4", Integer.class,
            "int2", Short.class, "bool", Boolean.class, "float8", Double.class, "float4", Float.class,
            "varchar", String.class, "bytea", byte[].class);

    /** This batch cannot be sent as arrays; it was rolled back (or never begun), and goes as a plain JDBC batch. */
    static final class Refused extends SQLException {
        private static final long serialVersionUID = 1L;

        /** Whether later batches can still go as arrays. */
        enum Scope {
            /** Something in this batch's data (a value out of range, nulls where a type is needed): they can. */
            BATCH,
            /** The arrays failed where the plain batch may succeed: if it does, they cannot (arrays go off). */
            DISAGREEMENT,
            /** What the binder does or the table is (a stream, a target SQL type, an array column): they cannot. */
            ALWAYS
        }

        final Scope scope;

        Refused(String why, Scope scope) {
            super(why, "0A000");
            this.scope = scope;
        }

        Refused(String why, Scope scope, Throwable cause) {
            super(why, "0A000", cause);
            this.scope = scope;
        }
    }

    private final PostgresArrayInsert insert;
    private final String writer;
    /** The target table's column types (folded name to SQL type), read once when a cast needs them. */
    private final AtomicReference<Map<String, String>> columnTypes = new AtomicReference<>();
    private volatile String refusedBecause;
    /** Batches refused for their own data so far; {@link #BATCH_REFUSALS_OFF} of them turn arrays off. */
    private final java.util.concurrent.atomic.AtomicInteger batchRefusals = new java.util.concurrent.atomic.AtomicInteger();
    static final int BATCH_REFUSALS_OFF = 10;

    private PostgresArrayWrites(PostgresArrayInsert insert, String writer) {
        this.insert = insert;
        this.writer = writer;
    }

    /** Array writes for {@code sql}, or null (logged at debug) when the statement cannot take them. */
    static PostgresArrayWrites of(String sql, String writer) {
        try {
            return new PostgresArrayWrites(PostgresArrayInsert.of(sql), writer);
        } catch (PostgresArrayInsert.NotApplicable e) {
            LOG.debug("writer '{}': on PostgreSQL its batches go as plain JDBC batches: {}", writer, e.getMessage());
            return null;
        }
    }

    /** False once arrays were turned off for this writer. */
    boolean usable() {
        return refusedBecause == null;
    }

    /** Why the writer no longer sends arrays, or null. */
    String refusedBecause() {
        return refusedBecause;
    }

    /**
     * Records a refusal after its batch went as a plain JDBC batch: arrays are turned off if the reason holds for
     * every batch, or if the plain batch succeeded where the arrays failed ({@code plainSucceeded}).
     */
    void refused(Refused r, boolean plainSucceeded) {
        // Refusals for one batch's data are cheap once, not on every batch: past a few, arrays go off too.
        boolean tooOften = r.scope == Refused.Scope.BATCH && batchRefusals.incrementAndGet() >= BATCH_REFUSALS_OFF;
        boolean off = r.scope == Refused.Scope.ALWAYS || tooOften
                || (r.scope == Refused.Scope.DISAGREEMENT && plainSucceeded);
        if (!off) {
            LOG.debug("writer '{}': one batch sent as a plain JDBC batch: {}", writer, r.getMessage());
            return;
        }
        synchronized (this) {
            if (refusedBecause != null) {
                return;
            }
            refusedBecause = r.getMessage();
        }
        LOG.warn("writer '{}': batches go as plain JDBC batches from now on, not as PostgreSQL arrays: {}{}", writer,
                r.getMessage(), r.scope == Refused.Scope.ALWAYS ? "" : tooOften ? " (the " + BATCH_REFUSALS_OFF
                        + "th batch refused for its data)" : " (the plain batch succeeded)");
    }

    /**
     * Runs one batch in one transaction, as {@link BatchedWriter#executeInTransaction} does, but with one
     * statement per round ({@link PostgresArrayInsert#rounds}).
     *
     * @param deadline the batch's deadline ({@link System#nanoTime}): each statement gets the time left
     * @throws Refused                 before COMMIT, rolled back: send the batch as a plain JDBC batch
     * @throws OutcomeUnknownException if COMMIT failed in a way that does not say it rolled back
     * @throws SQLException            the batch's own error (then nothing committed)
     */
    <R> Map<Write<R>, Written> executeInTransaction(Connection c, ParameterBinder<R> binder, List<Write<R>> writes,
                                                   long deadline, String keyColumn) throws SQLException {
        KeyedResult<Write<R>, Written> out = new KeyedResult<>(writes.size());
        return Transactions.run(c, () -> {
            CapturingStatement capture = new CapturingStatement(insert.params(), c);
            List<Write<R>> sent = new ArrayList<>(writes.size());
            List<Object[]> rows = new ArrayList<>(writes.size());
            List<String[]> nullTypes = new ArrayList<>(writes.size());
            for (Write<R> w : writes) {
                try {
                    capture.clear(); // each write sets all its parameters: none is borrowed from the one before
                    binder.bind(capture.statement, w.request);
                    rows.add(capture.row());
                    nullTypes.add(capture.nullTypes());
                    sent.add(w);
                } catch (SQLException | RuntimeException e) {
                    Refused refused = refusal(e);
                    if (refused != null) {
                        throw refused;
                    }
                    out.fail(w, BatchedWriter.binderFailed(e));
                }
            }
            if (sent.isEmpty()) {
                return out;
            }
            Typing typing = typing(c, rows, nullTypes, deadline);
            String sql = insert.sql(typing.elementTypes(), typing.casts(), keyColumn != null); // one for all rounds
            for (int[] round : insert.rounds(rows)) {
                run(c, sql, round, rows, sent, typing, deadline, keyColumn, out);
            }
            return out; // completed only once COMMIT returned (Transactions.run)
        }, result -> !result.isEmpty());
    }

    /**
     * Per parameter: the array's element type (a built-in name, written as it is), and the type its elements are
     * cast to in the SELECT list (or null).
     */
    private record Typing(String[] elementTypes, String[] casts, boolean[] asText) {
    }

    /** Types each parameter from the classes of its values in this batch, as pgjdbc would bind them. */
    private Typing typing(Connection c, List<Object[]> rows, List<String[]> nullTypes, long deadline)
            throws SQLException {
        int params = insert.params();
        String[] elementTypes = new String[params];
        String[] casts = new String[params];
        boolean[] asText = new boolean[params];
        for (int p = 0; p < params; p++) {
            Class<?> seen = null;
            boolean seenTypesItself = false; // a PGobject's type is its own, not its class's: look at each
            String type = null;
            for (Object[] row : rows) {
                Object v = row[p];
                if (v == null || (v.getClass() == seen && !seenTypesItself)) {
                    continue;
                }
                String t = driverType(v, p);
                if (type != null && !type.equals(t)) {
                    throw new Refused("parameter " + (p + 1) + " holds both " + seen.getName() + " and "
                            + v.getClass().getName() + " values, which the driver binds as different types",
                            Refused.Scope.ALWAYS);
                }
                seen = v.getClass();
                seenTypesItself = seen.getName().startsWith("org.postgresql.");
                type = t;
            }
            if (type == null) { // null in every row: the type pgjdbc gives the first typed null, if any
                for (String[] n : nullTypes) {
                    if (n[p] != null && !n[p].isEmpty()) {
                        type = n[p];
                        break;
                    }
                }
            }
            if (type != null && !type.isEmpty()) { // a type of the driver's own
                elementTypes[p] = type.startsWith("pgobject:") ? "text" : type;
                casts[p] = type.startsWith("pgobject:") ? quoted(type.substring("pgobject:".length())) : null;
                asText[p] = !NATIVE.containsKey(elementTypes[p]);
                continue;
            }
            // Untyped in pgjdbc (a java.sql.Timestamp or Date, an untyped null): the server infers the column's
            // type. Arrays must name it: only for a bare '?' (and a value only for a date or timestamp column,
            // where the text below is read as pgjdbc's would be; a null reads the same in any column).
            String column = insert.columnOf(p);
            if (column == null) {
                throw new Refused("parameter " + (p + 1) + (type == null ? " is an untyped null in every row of "
                        + "the batch" : " is a " + seen.getName() + ", which the driver sends untyped,")
                        + " inside an expression, so its type is the server's to infer",
                        type == null ? Refused.Scope.BATCH : Refused.Scope.ALWAYS);
            }
            String columnType = columnTypes(c, deadline).get(column);
            if (columnType == null) {
                columnTypes.set(null); // read again next time: the column may be new
                throw new Refused("the catalog has no column '" + column + "' in " + insert.table(),
                        Refused.Scope.DISAGREEMENT);
            }
            if (type != null && !DATE_TIME_COLUMNS.contains(columnType)) {
                throw new Refused("parameter " + (p + 1) + " is a " + seen.getName() + " for a " + columnType
                        + " column, which the driver's untyped text would fill differently", Refused.Scope.ALWAYS);
            }
            elementTypes[p] = "text";
            casts[p] = columnType;
            asText[p] = true;
        }
        return new Typing(elementTypes, casts, asText);
    }

    /**
     * The element type pgjdbc binds {@code v} as; "" for the classes it sends untyped; "pgobject:type" for a
     * PGobject (json, inet, ...) of that type.
     */
    private static String driverType(Object v, int p) throws Refused {
        String t = DRIVER_TYPES.get(v.getClass());
        if (t != null) {
            return t;
        }
        if (v.getClass() == java.sql.Timestamp.class || v.getClass() == java.sql.Date.class) {
            return ""; // (not pgjdbc's PGTimestamp and the like, which carry their own calendar and type)
        }
        if (v.getClass().getName().startsWith("org.postgresql.")) {
            try {
                Object type = v.getClass().getMethod("getType").invoke(v);
                if (type instanceof String s && !s.isEmpty()) {
                    return "pgobject:" + s;
                }
            } catch (ReflectiveOperationException e) {
                // refused below
            }
        }
        throw new Refused("parameter " + (p + 1) + " holds a " + v.getClass().getName() + ", which Ferry does not "
                + "send in an array", Refused.Scope.ALWAYS);
    }

    /** A type name as SQL must write it: as it is when plain lower case (or already quoted), else quoted. */
    private static String quoted(String type) {
        boolean plain = !type.isEmpty() && !Character.isDigit(type.charAt(0));
        for (int i = 0; i < type.length() && plain; i++) {
            char c = type.charAt(i);
            plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        }
        return plain || type.contains("\"") ? type : '"' + type.replace("\"", "\"\"") + '"';
    }

    /** The table's column types, read once from the catalog under the time left. */
    private Map<String, String> columnTypes(Connection c, long deadline) throws SQLException {
        Map<String, String> known = columnTypes.get();
        if (known != null) {
            return known;
        }
        Map<String, String> types = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, format_type(a.atttypid, NULL) "
                + "FROM pg_attribute a WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped")) {
            ps.setQueryTimeout(secondsLeft(deadline));
            ps.setString(1, insert.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    types.put(rs.getString(1), rs.getString(2));
                }
            }
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("08") || e instanceof SQLTimeoutException) {
                throw e; // the connection or the deadline, not the statement: as for any batch
            }
            throw new Refused("could not read the column types of " + insert.table() + ": " + e.getMessage(),
                    Refused.Scope.BATCH, e);
        }
        columnTypes.compareAndSet(null, types);
        return types;
    }

    private static int secondsLeft(long deadline) throws SQLTimeoutException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SQLTimeoutException("the batch's deadline passed before all its statements were sent; "
                    + "nothing was committed", "HYT00");
        }
        return BatchSettings.statementTimeoutSeconds(left);
    }

    private <R> void run(Connection c, String sql, int[] round, List<Object[]> rows, List<Write<R>> sent,
                         Typing typing, long deadline, String keyColumn, KeyedResult<Write<R>, Written> out)
            throws SQLException {
        try (PreparedStatement ps = keyColumn == null ? c.prepareStatement(sql)
                : c.prepareStatement(sql, new String[] {keyColumn})) {
            ps.setQueryTimeout(secondsLeft(deadline));
            for (int p = 0; p < insert.params(); p++) {
                ps.setArray(p + 1, column(c, typing.elementTypes()[p], typing.asText()[p], rows, round, p));
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
                            + "rows", Refused.Scope.BATCH);
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
            return new Refused("PostgreSQL did not accept the batch as arrays: " + e.getMessage(),
                    Refused.Scope.DISAGREEMENT, e);
        }
        if (state.equals("21000")) {
            // keys Java tells apart and SQL does not (a case-insensitive collation, -0.0 and 0.0): this batch's data
            return new Refused("two rows of the batch updated the same row: " + e.getMessage(), Refused.Scope.BATCH,
                    e);
        }
        if (state.startsWith("22") && rows == 1) {
            return new Refused("a one-row data error is confirmed with the driver's own binding: "
                    + e.getMessage(), Refused.Scope.DISAGREEMENT, e);
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

    /** One parameter's values from the rows of {@code round}, as an array of its element type. */
    private static Array column(Connection c, String elementType, boolean asText, List<Object[]> rows, int[] round,
                                int p) throws SQLException {
        Object[] values;
        if (asText) {
            values = new String[round.length];
            for (int i = 0; i < round.length; i++) {
                values[i] = text(rows.get(round[i])[p]);
            }
        } else {
            Class<?> element = NATIVE.get(elementType);
            values = element == byte[].class ? new byte[round.length][]
                    : (Object[]) java.lang.reflect.Array.newInstance(element, round.length);
            for (int i = 0; i < round.length; i++) {
                Object v = rows.get(round[i])[p];
                values[i] = v instanceof Byte b ? Short.valueOf(b) : v instanceof Character ch ? ch.toString() : v;
            }
        }
        try {
            return c.createArrayOf(elementType, values);
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("08")) {
                throw e;
            }
            throw new Refused("the driver could not make a " + elementType + " array: " + e.getMessage(),
                    Refused.Scope.ALWAYS, e);
        }
    }

    /** PostgreSQL's infinities, as pgjdbc's {@code PGStatement.DATE_POSITIVE_INFINITY} and its negative. */
    private static final long POSITIVE_INFINITY = 9223372036825200000L;
    private static final long NEGATIVE_INFINITY = -9223372036832400000L;

    /** A value's text form, as pgjdbc sends it for its type (the server parses it as the array's type). */
    private static String text(Object v) throws Refused {
        if (v == null) {
            return null;
        }
        if (v instanceof java.sql.Timestamp t) {
            if (t.getTime() == POSITIVE_INFINITY || t.getTime() == NEGATIVE_INFINITY) {
                return t.getTime() == POSITIVE_INFINITY ? "infinity" : "-infinity";
            }
            // pgjdbc: the local date-time in the JVM's zone, with that zone's offset at this instant; a timestamp
            // column keeps the local date-time, a timestamptz column the instant, a date column the date.
            LocalDateTime local = micros(t.toLocalDateTime());
            return dateTime(local) + java.time.ZoneId.systemDefault().getRules().getOffset(t.toInstant());
        }
        if (v instanceof java.sql.Date d) {
            if (d.getTime() == POSITIVE_INFINITY || d.getTime() == NEGATIVE_INFINITY) {
                return d.getTime() == POSITIVE_INFINITY ? "infinity" : "-infinity";
            }
            // pgjdbc: the date, with the JVM zone's offset at the Date's own instant (the server reads midnight)
            return date(d.toLocalDate()) + ' '
                    + java.time.ZoneId.systemDefault().getRules().getOffset(java.time.Instant.ofEpochMilli(d.getTime()));
        }
        if (v instanceof LocalDate d) {
            return d.equals(LocalDate.MAX) ? "infinity" : d.equals(LocalDate.MIN) ? "-infinity" : date(d);
        }
        if (v instanceof LocalDateTime t) {
            return t.equals(LocalDateTime.MAX) ? "infinity" : t.equals(LocalDateTime.MIN) ? "-infinity"
                    : dateTime(micros(t));
        }
        if (v instanceof OffsetDateTime t) {
            return t.equals(OffsetDateTime.MAX) ? "infinity" : t.equals(OffsetDateTime.MIN) ? "-infinity"
                    : dateTime(micros(t.toLocalDateTime())) + t.getOffset();
        }
        if (v instanceof LocalTime t) {
            LocalTime rounded = t.plusNanos(500).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
            return rounded.isBefore(t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)) ? "24:00:00"
                    : rounded.toString(); // pgjdbc rounds to microseconds, and up to 24:00:00 at midnight
        }
        if (v.getClass().getName().startsWith("org.postgresql.")) {
            try {
                return (String) v.getClass().getMethod("getValue").invoke(v);
            } catch (ReflectiveOperationException | ClassCastException e) {
                throw new Refused("could not read the value of a " + v.getClass().getName() + ": " + e,
                        Refused.Scope.ALWAYS);
            }
        }
        return v.toString(); // numbers (BigDecimal as pgjdbc sends it), UUID, strings
    }

    /** Rounded half up to microseconds, as pgjdbc rounds what PostgreSQL would round half to even. */
    private static LocalDateTime micros(LocalDateTime t) {
        return t.plusNanos(500).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }

    /** {@code yyyy-MM-dd HH:mm:ss.ffffff}, for years 1 to 9999 (others are this batch's to send plainly). */
    private static String dateTime(LocalDateTime t) throws Refused {
        return date(t.toLocalDate()) + ' ' + t.toLocalTime();
    }

    private static String date(LocalDate d) throws Refused {
        if (d.getYear() < 1 || d.getYear() > 9999) {
            throw new Refused("a date in the year " + d.getYear() + ", which ISO text and PostgreSQL write "
                    + "differently", Refused.Scope.BATCH);
        }
        return d.toString();
    }
}
