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
    private final Connection connection;
    final PreparedStatement statement;

    CapturingStatement(int params, Connection connection) {
        this.current = new Object[params];
        this.set = new boolean[params];
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

    /** Forgets every value, as {@code clearParameters} does. */
    void clear() {
        java.util.Arrays.fill(current, null);
        java.util.Arrays.fill(set, false);
    }

    /** A copy of a value the binder may change after setting it (a reused buffer), as a driver copies it. */
    private static Object copy(Object v) {
        if (v instanceof byte[] b) {
            return b.clone();
        }
        if (v instanceof java.util.Date d) { // java.sql.Timestamp, Date, Time
            return d.clone();
        }
        return v;
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
            throw new PostgresArrayWrites.Refused("the binder called " + name + ", which only the real statement "
                    + "has", true);
        }
        switch (name) {
            case "setNull", "setString", "setNString", "setBoolean", "setByte", "setShort", "setInt", "setLong",
                    "setFloat", "setDouble", "setBigDecimal", "setBytes", "setDate", "setTime", "setTimestamp",
                    "setObject" -> {
                if (args.length == 3 && args[2] instanceof Calendar) {
                    throw new PostgresArrayWrites.Refused("the binder called " + name + " with a Calendar", true);
                }
                if (name.equals("setObject") && args.length > 2) { // the driver converts to the target type
                    throw new PostgresArrayWrites.Refused("the binder called setObject with a target SQL type", true);
                }
                if (index < 1 || index > current.length) {
                    throw new SQLException("parameter index " + index + " is out of range; the statement has "
                            + current.length + " parameters", "22023");
                }
                current[index - 1] = name.equals("setNull") ? null : copy(args[1]);
                set[index - 1] = true;
                return null;
            }
            default -> throw new PostgresArrayWrites.Refused("the binder called " + name + ", which cannot be sent "
                    + "as an array element", true);
        }
    }
}
