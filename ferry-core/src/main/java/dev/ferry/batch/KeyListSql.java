package dev.ferry.batch;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
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
 *   <li>Others (MariaDB, MySQL, H2, Oracle, SQL Server, ...): {@code IN (?, ?, ...)} with the list padded to the
 *       next power of two by repeating the last key, so only a few statement texts exist and statement caches
 *       stay warm. A batch larger than the database's limit on one statement ({@link Dialect#maxKeys}) is sent
 *       as several statements.
 * </ul>
 *
 * <p>Everything that can be checked without a connection is checked at build: exactly one {@code IN (:keys)}, not
 * negated ({@code NOT IN} cannot be batched: its rows do not belong to one key), exactly one {@code ?} (outside
 * quotes and comments) for each fixed parameter given, and a key type whose PostgreSQL array element type is known
 * (or given). Fixed parameters are bound around the key list in every statement and count against the database's
 * limit on parameters ({@link #maxKeys}).
 */
final class KeyListSql {

    private static final Pattern KEYS = Pattern.compile("(?i)\\bIN\\s*\\(\\s*:keys\\s*\\)");
    private static final Pattern NOT_KEYS = Pattern.compile("(?i)\\bNOT\\s+IN\\s*\\(\\s*:keys\\s*\\)");

    /** PostgreSQL array element types for the key classes Ferry knows. */
    static final Map<Class<?>, String> PG_TYPES = Map.ofEntries(
            Map.entry(Long.class, "int8"), Map.entry(Integer.class, "int4"), Map.entry(Short.class, "int2"),
            Map.entry(String.class, "text"), Map.entry(UUID.class, "uuid"), Map.entry(BigDecimal.class, "numeric"),
            Map.entry(LocalDate.class, "date"), Map.entry(LocalDateTime.class, "timestamp"),
            Map.entry(OffsetDateTime.class, "timestamptz"), Map.entry(Instant.class, "timestamptz"),
            Map.entry(Boolean.class, "bool"));

    /** How a database takes a key list, and how many keys one statement may carry. */
    enum Dialect {
        POSTGRES(Integer.MAX_VALUE), ORACLE(1000), SQLSERVER(2000), MYSQL(65_535), OTHER(32_766);

        /**
         * Oracle: 1,000 items in an IN list; SQL Server: 2,100 parameters, of which sp_executesql/sp_prepexec use a
         * few, so 2,000; MySQL/MariaDB: 65,535 parameters; others: SQLite's 32,766.
         */
        final int maxKeys;

        Dialect(int maxKeys) {
            this.maxKeys = maxKeys;
        }

        static Dialect of(Connection c) throws SQLException {
            String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
            if (product.contains("postgres")) {
                return POSTGRES;
            }
            if (product.contains("oracle")) {
                return ORACLE;
            }
            if (product.contains("microsoft") || product.contains("sql server")) {
                return SQLSERVER;
            }
            if (product.contains("mysql") || product.contains("mariadb")) {
                return MYSQL;
            }
            return OTHER;
        }
    }

    private final String template;
    private final String arrayType;
    /** Fixed parameters ({@code ?}) in the query before the key list, and in all. */
    private final int fixedBefore;
    private final int fixed;

    private KeyListSql(String template, String arrayType, int fixedBefore, int fixed) {
        this.template = template;
        this.arrayType = arrayType;
        this.fixedBefore = fixedBefore;
        this.fixed = fixed;
    }

    /** {@link #of(String, Class, String, int)} with no fixed parameters. */
    static KeyListSql of(String template, Class<?> keyType, String arrayType) {
        return of(template, keyType, arrayType, 0);
    }

    /**
     * @param fixedParams how many fixed parameters the caller binds around the key list ({@code params(...)}):
     *                    the query must hold exactly that many {@code ?} outside quotes and comments
     * @throws IllegalArgumentException naming the problem: no {@code IN (:keys)}, more than one, {@code NOT IN},
     *                                  a '?' count other than the fixed parameters, or a key type with no known
     *                                  PostgreSQL array type
     */
    static KeyListSql of(String template, Class<?> keyType, String arrayType, int fixedParams) {
        if (template == null) {
            throw new IllegalArgumentException("sql: got null; allowed: a query with one 'IN (:keys)'");
        }
        if (NOT_KEYS.matcher(template).find()) {
            throw new IllegalArgumentException("sql: got '" + template + "'; allowed: 'IN (:keys)', not 'NOT IN "
                    + "(:keys)': rows of a NOT IN query do not belong to one key, so they cannot be matched to callers");
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
        String rest = KEYS.matcher(template).replaceFirst("");
        if (rest.contains(":keys")) {
            throw new IllegalArgumentException("sql: got '" + template + "'; allowed: one 'IN (:keys)' and no other "
                    + "':keys'");
        }
        Matcher at = KEYS.matcher(template);
        at.find();
        int before = placeholders(template.substring(0, at.start()));
        int all = before + placeholders(template.substring(at.end()));
        if (all >= Dialect.ORACLE.maxKeys) {
            throw new IllegalArgumentException("sql: got " + all + " fixed parameters; allowed: fewer than "
                    + Dialect.ORACLE.maxKeys + ", so that keys fit beside them in every database's statement limit");
        }
        if (all != fixedParams) {
            throw new IllegalArgumentException("sql: got '" + template + "' with " + all + " '?' outside the key list "
                    + "and " + fixedParams + " value(s) from params(...); allowed: one params value per '?', in order "
                    + "(e.g. WHERE tenant_id = ? AND id IN (:keys) with params(tenantId))");
        }
        if (keyType.isArray() || keyType.isPrimitive()) {
            throw new IllegalArgumentException("keyType: got " + keyType.getName() + "; allowed: a class with value "
                    + "equality (arrays compare by identity, so rows could never be matched to callers); "
                    + "supported without arrayType: " + supportedTypes());
        }
        String type = arrayType != null ? arrayType : PG_TYPES.get(keyType);
        if (type == null) {
            throw new IllegalArgumentException("keyType: got " + keyType.getName() + ", which has no PostgreSQL "
                    + "array type Ferry knows; allowed: " + supportedTypes() + ", or any type with "
                    + "arrayType(\"<PostgreSQL element type>\") set");
        }
        return new KeyListSql(template, type, before, all);
    }

    /** JDBC placeholders outside quotes and comments ({@link SqlText#placeholders}). */
    static int placeholders(String sql) {
        return SqlText.placeholders(sql);
    }

    /** The most keys one statement may carry in this dialect, beside the fixed parameters. */
    int maxKeys(Dialect dialect) {
        return dialect.maxKeys - fixed;
    }

    private static String supportedTypes() {
        return PG_TYPES.keySet().stream().map(Class::getSimpleName).sorted().toList().toString();
    }

    /** The statement text for a statement carrying {@code keys} keys. */
    String sql(Dialect dialect, int keys) {
        if (dialect == Dialect.POSTGRES) {
            return KEYS.matcher(template).replaceFirst("= ANY(?)");
        }
        int padded = padded(keys, maxKeys(dialect));
        StringBuilder list = new StringBuilder("IN (");
        for (int i = 0; i < padded; i++) {
            list.append(i == 0 ? "?" : ", ?");
        }
        return KEYS.matcher(template).replaceFirst(Matcher.quoteReplacement(list.append(')').toString()));
    }

    /**
     * Binds the keys: an array on PostgreSQL (numbers as they are; other types as their text form, which the
     * server parses as the element type), else each key with the last repeated up to the padded size.
     */
    void bind(Connection c, PreparedStatement ps, Dialect dialect, List<?> keys) throws SQLException {
        if (fixed > 0) {
            throw new IllegalStateException("this query has " + fixed + " fixed parameters: bind them too");
        }
        bind(c, ps, dialect, keys, new Object[0]);
    }

    /** As above, with the fixed parameters before and after the key list, in the query's order. */
    void bind(Connection c, PreparedStatement ps, Dialect dialect, List<?> keys, Object[] params) throws SQLException {
        for (int i = 0; i < fixedBefore; i++) {
            ps.setObject(i + 1, params[i]);
        }
        int listAt = fixedBefore + 1; // the key list's first parameter
        int listSize = dialect == Dialect.POSTGRES ? 1 : padded(keys.size(), maxKeys(dialect));
        for (int i = fixedBefore; i < fixed; i++) {
            ps.setObject(listAt + listSize + (i - fixedBefore), params[i]);
        }
        if (dialect == Dialect.POSTGRES) {
            Object first = keys.get(0);
            Object[] elements;
            if (first instanceof Long || first instanceof Integer || first instanceof Short) {
                elements = keys.toArray();
            } else {
                elements = new String[keys.size()];
                for (int i = 0; i < elements.length; i++) {
                    Object k = keys.get(i);
                    elements[i] = k instanceof BigDecimal d ? d.toPlainString() : k.toString();
                }
            }
            ps.setArray(listAt, c.createArrayOf(arrayType, elements));
            return;
        }
        for (int i = 0; i < listSize; i++) {
            ps.setObject(listAt + i, keys.get(Math.min(i, keys.size() - 1)));
        }
    }

    /** The next power of two at or above {@code n}, but never above {@code max} (n itself is at most max). */
    static int padded(int n, int max) {
        int p = n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
        return Math.max(n, Math.min(p, max));
    }
}
