package dev.ferry.batch;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Calendar;

/**
 * A {@link PreparedStatement} that a user's binder fills in place of the real one, so that each row's values can
 * be sent as columns ({@link PostgresArrayWrites}). An index outside the statement's parameters fails, and a
 * row with a parameter not set fails ({@link #row}); the writer clears the values before each write, as it clears
 * a plain statement's, so no write borrows a value from the one before.
 *
 * Values that can change after they are set (byte arrays, dates) are copied, as a driver copies them.
 *
 * <p>What it cannot hold as a value (streams, LOBs, a Calendar-relative time, a target SQL type the driver would
 * convert to, a driver's own methods) throws
 * {@link PostgresArrayWrites.Refused}: the writer then sends its batches as plain JDBC batches, where the binder
 * gets the real statement.
 */
final class CapturingStatement implements InvocationHandler {

    private final Object[] current;
    private final boolean[] set;
    /**
     * For a null value: the element type pgjdbc gives it from its setter ({@code setNull}'s SQL type,
     * {@code setString(i, null)}: varchar, ...), or "" where pgjdbc sends it untyped.
     */
    private final String[] nullTypes;
    private final Connection connection;
    final PreparedStatement statement;

    CapturingStatement(int params, Connection connection) {
        this.current = new Object[params];
        this.set = new boolean[params];
        this.nullTypes = new String[params];
        this.connection = connection;
        this.statement = (PreparedStatement) Proxy.newProxyInstance(PreparedStatement.class.getClassLoader(),
                new Class<?>[] {PreparedStatement.class}, this);
    }

    /**
     * The values the binder set, as one row (a copy: they stay set for the next row).
     *
     * @throws SQLException 22023 naming the first parameter never set, as a driver's addBatch would
     */
    Object[] row() throws SQLException {
        for (int i = 0; i < set.length; i++) {
            if (!set[i]) {
                throw new SQLException("no value specified for parameter " + (i + 1), "22023");
            }
        }
        return current.clone();
    }

    /** The null types of the row just taken ({@link #nullTypes}); null where the value is not null. */
    String[] nullTypes() {
        return nullTypes.clone();
    }

    /** Forgets every value, as {@code clearParameters} does. */
    void clear() {
        java.util.Arrays.fill(current, null);
        java.util.Arrays.fill(set, false);
        java.util.Arrays.fill(nullTypes, null);
    }

    /** A copy of a value the binder may change after setting it (a reused buffer), as a driver copies it. */
    private static Object copy(Object v) throws SQLException {
        if (v == null || v instanceof String || v instanceof Long || v instanceof Integer) {
            return v; // immutable, and what most binders set: no class-name test per value
        }
        if (v instanceof byte[] b) {
            return b.clone();
        }
        if (v instanceof java.util.Date d) { // java.sql.Timestamp, Date, Time
            return d.clone();
        }
        if (v instanceof Cloneable && v.getClass().getName().startsWith("org.postgresql.")) {
            try { // a PGobject (json, inet, ...) the binder may reuse for the next row
                return v.getClass().getMethod("clone").invoke(v);
            } catch (ReflectiveOperationException e) {
                throw refusal("could not copy a " + v.getClass().getName() + ": " + e);
            }
        }
        return v;
    }

    /** What the binder did that arrays cannot carry, for any batch of this writer. */
    private static PostgresArrayWrites.Refused refusal(String why) {
        return new PostgresArrayWrites.Refused(why, PostgresArrayWrites.Refused.Scope.ALWAYS);
    }

    /** The type pgjdbc gives a null set through {@code setter} (with {@code sqlType} for setNull); "" untyped. */
    private static String nullType(String setter, int sqlType) {
        switch (setter) {
            case "setString": return "varchar";
            case "setBoolean": return "bool";
            case "setByte", "setShort": return "int2";
            case "setInt": return "int4";
            case "setLong": return "int8";
            case "setFloat": return "float4";
            case "setDouble": return "float8";
            case "setBigDecimal": return "numeric";
            case "setBytes": return "bytea";
            case "setDate": return "date";
            case "setNull": break;
            default: return ""; // setObject(i, null), setTime, setTimestamp: untyped
        }
        switch (sqlType) {
            case java.sql.Types.INTEGER: return "int4";
            case java.sql.Types.TINYINT, java.sql.Types.SMALLINT: return "int2";
            case java.sql.Types.BIGINT: return "int8";
            case java.sql.Types.REAL: return "float4";
            case java.sql.Types.DOUBLE, java.sql.Types.FLOAT: return "float8";
            case java.sql.Types.DECIMAL, java.sql.Types.NUMERIC: return "numeric";
            case java.sql.Types.CHAR: return "bpchar";
            case java.sql.Types.VARCHAR, java.sql.Types.LONGVARCHAR: return "varchar";
            case java.sql.Types.DATE: return "date";
            case java.sql.Types.BOOLEAN, java.sql.Types.BIT: return "bool";
            case java.sql.Types.BINARY, java.sql.Types.VARBINARY, java.sql.Types.LONGVARBINARY: return "bytea";
            case java.sql.Types.BLOB, java.sql.Types.CLOB: return "oid";
            case java.sql.Types.SQLXML: return "xml";
            case java.sql.Types.TIME, java.sql.Types.TIMESTAMP, java.sql.Types.TIME_WITH_TIMEZONE,
                    java.sql.Types.TIMESTAMP_WITH_TIMEZONE, java.sql.Types.ARRAY, java.sql.Types.DISTINCT,
                    java.sql.Types.STRUCT, java.sql.Types.NULL, java.sql.Types.OTHER:
                return ""; // untyped, as pgjdbc sends them
            default: // NVARCHAR, NCHAR, ...: pgjdbc refuses them ("Unknown Types value"); so must the arrays
                return "?";
        }
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        switch (name) {
            case "getConnection":
                return connection;
            case "clearParameters":
                clear();
                return null;
            case "toString":
                return "a statement capturing a batch's parameters";
            case "hashCode":
                return System.identityHashCode(proxy);
            case "equals":
                return proxy == args[0];
            default:
                break;
        }
        if (!name.startsWith("set") || args == null || args.length < 2 || !(args[0] instanceof Integer index)) {
            throw refusal("the binder called " + name + ", which only the real statement "
                    + "has");
        }
        switch (name) {
            case "setNull", "setString", "setBoolean", "setByte", "setShort", "setInt", "setLong",
                    "setFloat", "setDouble", "setBigDecimal", "setBytes", "setDate", "setTime", "setTimestamp",
                    "setObject" -> {
                if (args.length == 3 && args[2] instanceof Calendar) {
                    throw refusal("the binder called " + name + " with a Calendar");
                }
                if (name.equals("setObject") && args.length > 2) { // the driver converts to the target type
                    throw refusal("the binder called setObject with a target SQL type");
                }
                if (index < 1 || index > current.length) {
                    throw new SQLException("parameter index " + index + " is out of range; the statement has "
                            + current.length + " parameters", "22023");
                }
                if (name.equals("setNull") && args.length > 2) { // the driver types it by the name given
                    throw refusal("the binder called setNull with a type name");
                }
                Object value = name.equals("setNull") ? null : copy(args[1]);
                current[index - 1] = value;
                nullTypes[index - 1] = value != null ? null
                        : nullType(name, name.equals("setNull") ? (Integer) args[1] : java.sql.Types.OTHER);
                if ("?".equals(nullTypes[index - 1])) {
                    throw refusal("the binder called setNull with SQL type " + args[1] + ", which the driver does "
                            + "not know");
                }
                set[index - 1] = true;
                return null;
            }
            default -> throw refusal("the binder called " + name + ", which cannot be sent "
                    + "as an array element");
        }
    }
}
