package dev.ferry.batch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a template with one key list, {@code ... WHERE id IN (:keys)}, into the statement a database runs best.
 *
 * <ul>
 *   <li>PostgreSQL: {@code ... WHERE id = ANY(?)} with one typed array parameter. One statement text for every
 *       batch size, so the server plans it once.
 *   <li>Others (MariaDB, MySQL, H2, ...): {@code IN (?, ?, ...)} with the list padded to the next power of two by
 *       repeating the last key. Only log2(maxBatchSize) + 1 statement texts exist, so statement caches stay warm.
 * </ul>
 */
final class KeyListSql {

    private static final Pattern KEYS = Pattern.compile("(?i)\\bIN\\s*\\(\\s*:keys\\s*\\)");

    /** PostgreSQL array element types for common key classes. */
    private static final Map<Class<?>, String> PG_TYPES = Map.of(
            Long.class, "int8", Integer.class, "int4", Short.class, "int2", String.class, "text",
            UUID.class, "uuid");

    private final String template;
    private final String arrayType;

    private KeyListSql(String template, String arrayType) {
        this.template = template;
        this.arrayType = arrayType;
    }

    /**
     * @throws IllegalArgumentException if the template has no {@code IN (:keys)}, or has more than one
     */
    static KeyListSql of(String template, Class<?> keyType, String arrayType) {
        if (template == null) {
            throw new IllegalArgumentException("sql: got null; allowed: a query with one 'IN (:keys)'");
        }
        Matcher m = KEYS.matcher(template);
        if (!m.find()) {
            throw new IllegalArgumentException("sql: got '" + template + "'; allowed: a query with one "
                    + "'IN (:keys)', e.g. SELECT id, name FROM users WHERE id IN (:keys)");
        }
        if (m.find()) {
            throw new IllegalArgumentException("sql: got '" + template + "' with more than one 'IN (:keys)'; "
                    + "allowed: exactly one key list");
        }
        String type = arrayType != null ? arrayType : PG_TYPES.get(keyType);
        return new KeyListSql(template, type);
    }

    static boolean isPostgres(Connection c) throws SQLException {
        return c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres");
    }

    /** The statement text for this many keys. */
    String sql(boolean postgres, int keys) {
        if (postgres) {
            return KEYS.matcher(template).replaceFirst("= ANY(?)");
        }
        int padded = padded(keys);
        StringBuilder list = new StringBuilder("IN (");
        for (int i = 0; i < padded; i++) {
            list.append(i == 0 ? "?" : ", ?");
        }
        return KEYS.matcher(template).replaceFirst(Matcher.quoteReplacement(list.append(')').toString()));
    }

    /** Binds the keys: an array on PostgreSQL, else each key with the last repeated up to the padded size. */
    void bind(Connection c, PreparedStatement ps, boolean postgres, List<?> keys) throws SQLException {
        if (postgres) {
            if (arrayType == null) {
                throw new SQLException("no PostgreSQL array type known for key " + keys.get(0).getClass().getName()
                        + "; set it with arrayType(...)", "22023");
            }
            ps.setArray(1, c.createArrayOf(arrayType, keys.toArray()));
            return;
        }
        int padded = padded(keys.size());
        for (int i = 0; i < padded; i++) {
            ps.setObject(i + 1, keys.get(Math.min(i, keys.size() - 1)));
        }
    }

    static int padded(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }
}
