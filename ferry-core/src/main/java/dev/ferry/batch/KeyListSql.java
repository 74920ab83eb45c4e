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
 * negated ({@code NOT IN} cannot be batched: its rows do not belong to one key), no other parameters, and a key
 * type whose PostgreSQL array element type is known (or given).
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

    private KeyListSql(String template, String arrayType) {
        this.template = template;
        this.arrayType = arrayType;
    }

    /**
     * @throws IllegalArgumentException naming the problem: no {@code IN (:keys)}, more than one, {@code NOT IN},
     *                                  other parameters, or a key type with no known PostgreSQL array type
     */
    static KeyListSql of(String template, Class<?> keyType, String arrayType) {
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
        if (rest.contains(":keys") || rest.indexOf('?') >= 0) {
            throw new IllegalArgumentException("sql: got '" + template + "'; allowed: one 'IN (:keys)' and no other "
                    + "parameters (no '?', no other ':keys'): the lookup binds only the key list");
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
        return new KeyListSql(template, type);
    }

    private static String supportedTypes() {
        return PG_TYPES.keySet().stream().map(Class::getSimpleName).sorted().toList().toString();
    }

    /** The statement text for a statement carrying {@code keys} keys. */
    String sql(Dialect dialect, int keys) {
        if (dialect == Dialect.POSTGRES) {
            return KEYS.matcher(template).replaceFirst("= ANY(?)");
        }
        int padded = padded(keys, dialect.maxKeys);
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
            ps.setArray(1, c.createArrayOf(arrayType, elements));
            return;
        }
        int padded = padded(keys.size(), dialect.maxKeys);
        for (int i = 0; i < padded; i++) {
            ps.setObject(i + 1, keys.get(Math.min(i, keys.size() - 1)));
        }
    }

    /** The next power of two at or above {@code n}, but never above {@code max} (n itself is at most max). */
    static int padded(int n, int max) {
        int p = n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
        return Math.max(n, Math.min(p, max));
    }
}
