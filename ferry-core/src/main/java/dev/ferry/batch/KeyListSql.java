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
 * <p><b>Composite keys</b>: {@code WHERE (tenant_id, id) IN (:keys)} with a record key (its components, in
 * declaration order, are the tuple's columns) or a {@code List} key (its elements, in order). On PostgreSQL the
 * list becomes {@code (tenant_id, id) IN (SELECT * FROM unnest(?, ?))}, one typed array per column, one statement
 * text for every size; elsewhere {@code (tenant_id, id) IN ((?, ?), (?, ?), ...)}, padded as above, with the
 * parameter limit divided by the tuple's width.
 *
 * <p>Everything that can be checked without a connection is checked at build: exactly one {@code IN (:keys)}, not
 * negated ({@code NOT IN} cannot be batched: its rows do not belong to one key), exactly one {@code ?} (outside
 * quotes and comments) for each fixed parameter given, and a key type whose PostgreSQL array element type is known
 * (or given). Fixed parameters are bound around the key list in every statement and count against the database's
 * limit on parameters ({@link #maxKeys}).
 */
final class KeyListSql {

    private static final Pattern KEYS = Pattern.compile("(?i)\\bIN\\s*\\(\\s*:keys\\s*\\)");
    /** A column tuple right before the key list: {@code (a, b) IN (:keys)}. */
    private static final Pattern TUPLE = Pattern.compile("(?<![\\w$])\\(([^()]*,[^()]*)\\)\\s*$");
    /** Primitive record components, as their boxes. */
    private static final Map<Class<?>, Class<?>> BOXES = Map.of(long.class, Long.class, int.class, Integer.class,
            short.class, Short.class, boolean.class, Boolean.class);
    /** A negated key list: {@code NOT IN (:keys)}, {@code NOT id IN (:keys)}, {@code NOT (a, b) IN (:keys)}. */
    private static final Pattern NOT_KEYS = Pattern.compile(
            "(?i)\\bNOT\\s*(\\([^()]*\\)|[\\w.\"]+)?\\s*IN\\s*\\(\\s*:keys\\s*\\)");

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

        /** The dialect in {@code known}, or {@code c}'s, asked once and kept there (one per lookup or writer). */
        static Dialect of(java.util.concurrent.atomic.AtomicReference<Dialect> known, Connection c)
                throws SQLException {
            Dialect d = known.get();
            if (d == null) {
                d = of(c);
                known.set(d);
            }
            return d;
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
    /** Per key column: its PostgreSQL element type, or null when read from the first batch's values. */
    private final String[] arrayTypes;
    /** Fixed parameters ({@code ?}) in the query before the key list, and in all. */
    private final int fixedBefore;
    private final int fixed;
    /** A composite key's parts, in the tuple's order; null for a single-column key. */
    private final java.util.function.Function<Object, Object[]> parts;
    /** Record components typed BigDecimal or OffsetDateTime. */
    private final java.util.List<String> unequalComponents;

    private KeyListSql(String template, String[] arrayTypes, int fixedBefore, int fixed,
                       java.util.function.Function<Object, Object[]> parts, java.util.List<String> unequalComponents) {
        this.template = template;
        this.arrayTypes = arrayTypes;
        this.fixedBefore = fixedBefore;
        this.fixed = fixed;
        this.parts = parts;
        this.unequalComponents = unequalComponents;
    }

    /** Refuses a dialect this key list cannot be written in: composite keys on SQL Server (no row-value IN). */
    void checkSupported(Dialect dialect) throws java.sql.SQLFeatureNotSupportedException {
        if (parts != null && dialect == Dialect.SQLSERVER) {
            throw new java.sql.SQLFeatureNotSupportedException("SQL Server has no row-value IN: composite keys "
                    + "work on PostgreSQL, MySQL/MariaDB, H2 and Oracle", "0A000");
        }
    }

    /** Columns per key: 1, or the tuple's width. */
    int arity() {
        return arrayTypes.length;
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
        String[] tuple = tuple(template, at.start());
        if (tuple != null || keyType.isRecord() || List.class.isAssignableFrom(keyType)) {
            return composite(template, keyType, arrayType, tuple, before, all);
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
        return new KeyListSql(template, new String[] {type}, before, all, null, java.util.List.of());
    }

    /** Words after which a parenthesis opens a tuple, not a function's arguments. */
    private static final java.util.Set<String> BEFORE_TUPLE = java.util.Set.of("", "where", "and", "or", "on",
            "having", "when", "(");

    /** The column names of {@code (a, b) IN (:keys)} ending at {@code keysAt}, or null for a single column. */
    private static String[] tuple(String template, int keysAt) {
        String masked = SqlText.mask(template.substring(0, keysAt));
        Matcher m = TUPLE.matcher(masked);
        if (!m.find()) {
            return null;
        }
        int before = m.start() - 1; // the word before the parenthesis: a function's name, or a keyword
        while (before >= 0 && Character.isWhitespace(masked.charAt(before))) {
            before--;
        }
        int wordEnd = before + 1;
        while (before >= 0 && (Character.isLetterOrDigit(masked.charAt(before)) || masked.charAt(before) == '_')) {
            before--;
        }
        String word = masked.substring(before + 1, wordEnd).toLowerCase(Locale.ROOT);
        if (word.isEmpty() && wordEnd > 0 && masked.charAt(wordEnd - 1) == '(') {
            word = "(";
        }
        if (!BEFORE_TUPLE.contains(word)) {
            return null; // coalesce (a, b) IN (:keys): a function's arguments
        }
        List<String> columns = new java.util.ArrayList<>();
        int from = m.start(1);
        int depth = 0;
        for (int i = m.start(1); i <= m.end(1); i++) {
            char c = i < m.end(1) ? masked.charAt(i) : ',';
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (c == ',' && depth == 0) { // commas inside quoted names are masked
                columns.add(template.substring(from, i).strip());
                from = i + 1;
            }
        }
        return columns.toArray(new String[0]);
    }

    /**
     * Whether no key of {@code keys} can match: a composite key column null in every key (NULL equals nothing; on
     * PostgreSQL its array would have no type to compare with).
     */
    boolean matchesNothing(List<?> keys) {
        if (parts == null) {
            return false;
        }
        boolean[] seen = new boolean[arity()];
        int columnsSeen = 0;
        for (Object key : keys) {
            Object[] p = parts.apply(key);
            for (int j = 0; j < p.length && j < seen.length; j++) {
                if (p[j] != null && !seen[j]) {
                    seen[j] = true;
                    columnsSeen++;
                }
            }
            if (columnsSeen == seen.length) {
                return false;
            }
        }
        return true;
    }

    /** Record components whose {@code equals} differs from SQL's (scale, offset): a key normalizer must fix them. */
    java.util.List<String> componentsComparedDifferently() {
        return unequalComponents;
    }

    private static KeyListSql composite(String template, Class<?> keyType, String arrayType, String[] tuple,
                                        int before, int all) {
        String example = "a record key, e.g. record OrderKey(long tenantId, long id), with "
                + "WHERE (tenant_id, id) IN (:keys)";
        if (tuple == null) {
            throw new IllegalArgumentException("sql: got '" + template + "' with a " + keyType.getName() + " key; "
                    + "allowed: a column tuple before the key list for a composite key: " + example);
        }
        if (!keyType.isRecord() && !List.class.isAssignableFrom(keyType)) {
            throw new IllegalArgumentException("keyType: got " + keyType.getName() + " for the " + tuple.length
                    + "-column tuple " + java.util.Arrays.toString(tuple) + "; allowed: " + example
                    + ", or a List key with one element per column");
        }
        String[] types = new String[tuple.length];
        if (arrayType != null) {
            String[] given = arrayType.split(",");
            if (given.length != tuple.length) {
                throw new IllegalArgumentException("arrayType: got '" + arrayType + "' (" + given.length + " types) "
                        + "for " + tuple.length + " key columns; allowed: one PostgreSQL element type per column, "
                        + "comma-separated, e.g. \"int8, text\"");
            }
            for (int i = 0; i < given.length; i++) {
                types[i] = given[i].strip();
            }
        }
        java.util.function.Function<Object, Object[]> parts;
        java.util.List<String> unequal = new java.util.ArrayList<>();
        if (keyType.isRecord()) {
            java.lang.reflect.RecordComponent[] components = keyType.getRecordComponents();
            if (components.length != tuple.length) {
                throw new IllegalArgumentException("keyType: got " + keyType.getName() + " with "
                        + components.length + " components for the " + tuple.length + "-column tuple "
                        + java.util.Arrays.toString(tuple) + "; allowed: one component per column, in order");
            }
            java.lang.reflect.Method[] accessors = new java.lang.reflect.Method[components.length];
            for (int i = 0; i < components.length; i++) {
                accessors[i] = components[i].getAccessor();
                try {
                    accessors[i].setAccessible(true); // a private or nested record of the caller's
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("keyType: got " + keyType.getName() + ", whose components "
                            + "Ferry cannot read (" + e + "); allowed: a record Ferry's module can read", e);
                }
                Class<?> type = BOXES.getOrDefault(components[i].getType(), components[i].getType());
                if (type.isArray()) {
                    throw new IllegalArgumentException("keyType: got " + keyType.getName() + " whose component "
                            + components[i].getName() + " is an array, which compares by identity, so rows could "
                            + "never be matched to callers; allowed: value types (a String, a UUID, a List)");
                }
                if (type == BigDecimal.class || type == OffsetDateTime.class) {
                    unequal.add(components[i].getName() + " (" + type.getSimpleName() + ")");
                }
                if (types[i] == null) {
                    types[i] = PG_TYPES.get(type);
                    if (types[i] == null) {
                        throw new IllegalArgumentException("keyType: got " + keyType.getName() + " whose component "
                                + components[i].getName() + " is a " + type.getName() + ", which has no PostgreSQL "
                                + "array type Ferry knows; allowed: " + supportedTypes() + ", or arrayType(\""
                                + "<one element type per column, comma-separated>\")");
                    }
                }
            }
            parts = key -> {
                Object[] out = new Object[accessors.length];
                for (int i = 0; i < accessors.length; i++) {
                    try {
                        out[i] = accessors[i].invoke(key);
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("could not read " + accessors[i].getName() + " of the key", e);
                    }
                }
                return out;
            };
        } else {
            parts = key -> ((List<?>) key).toArray();
        }
        return new KeyListSql(template, types, before, all, parts, java.util.List.copyOf(unequal));
    }

    /**
     * Why {@code key} cannot be sent (a List of the wrong size), or null. Checked when a caller asks, so the
     * key fails alone.
     */
    String problem(Object key) {
        if (parts != null && key instanceof List<?> list && list.size() != arity()) {
            return "the key " + key + " has " + list.size() + " elements; this lookup's tuple has " + arity()
                    + " columns";
        }
        return null;
    }

    /** JDBC placeholders outside quotes and comments ({@link SqlText#placeholders}). */
    static int placeholders(String sql) {
        return SqlText.placeholders(sql);
    }

    /** The most keys one statement may carry in this dialect, beside the fixed parameters. */
    int maxKeys(Dialect dialect) {
        return dialect == Dialect.POSTGRES ? dialect.maxKeys : (dialect.maxKeys - fixed) / arity();
    }

    private static String supportedTypes() {
        return PG_TYPES.keySet().stream().map(Class::getSimpleName).sorted().toList().toString();
    }

    /** The statement text for a statement carrying {@code keys} keys. */
    String sql(Dialect dialect, int keys) {
        if (dialect == Dialect.POSTGRES) {
            if (parts == null) {
                return KEYS.matcher(template).replaceFirst("= ANY(?)");
            }
            StringBuilder unnest = new StringBuilder("IN (SELECT * FROM unnest(");
            for (int j = 0; j < arity(); j++) {
                unnest.append(j == 0 ? "?" : ", ?");
            }
            return KEYS.matcher(template).replaceFirst(Matcher.quoteReplacement(unnest.append("))").toString()));
        }
        int padded = padded(keys, maxKeys(dialect));
        String one = parts == null ? "?" : "(?" + ", ?".repeat(arity() - 1) + ")";
        StringBuilder list = new StringBuilder("IN (");
        for (int i = 0; i < padded; i++) {
            list.append(i == 0 ? one : ", " + one);
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
        int padded = dialect == Dialect.POSTGRES ? 1 : padded(keys.size(), maxKeys(dialect));
        int listSize = dialect == Dialect.POSTGRES ? arity() : padded * arity();
        for (int i = fixedBefore; i < fixed; i++) {
            ps.setObject(listAt + listSize + (i - fixedBefore), params[i]);
        }
        if (parts == null) {
            if (dialect == Dialect.POSTGRES) {
                ps.setArray(listAt, c.createArrayOf(arrayTypes[0], elements(keys)));
                return;
            }
            for (int i = 0; i < padded; i++) {
                ps.setObject(listAt + i, keys.get(Math.min(i, keys.size() - 1)));
            }
            return;
        }
        List<Object[]> split = new java.util.ArrayList<>(keys.size());
        for (Object key : keys) {
            split.add(parts.apply(key));
        }
        if (dialect == Dialect.POSTGRES) {
            for (int j = 0; j < arity(); j++) {
                List<Object> column = new java.util.ArrayList<>(split.size());
                for (Object[] key : split) {
                    column.add(key[j]);
                }
                ps.setArray(listAt + j, c.createArrayOf(elementType(j, column), elements(column)));
            }
            return;
        }
        for (int i = 0; i < padded; i++) {
            Object[] key = split.get(Math.min(i, split.size() - 1));
            for (int j = 0; j < key.length; j++) {
                ps.setObject(listAt + i * arity() + j, key[j]);
            }
        }
    }

    /** Column {@code j}'s element type: as built, or (a List key) from the first value's class. */
    private String elementType(int j, List<Object> column) throws SQLException {
        if (arrayTypes[j] != null) {
            return arrayTypes[j];
        }
        for (Object v : column) {
            if (v != null) {
                String type = PG_TYPES.get(v.getClass());
                if (type == null) {
                    throw new SQLException("key column " + (j + 1) + " holds a " + v.getClass().getName() + ", which "
                            + "has no PostgreSQL array type Ferry knows; set arrayType(\"<one element type per "
                            + "column, comma-separated>\")", "22023");
                }
                return type;
            }
        }
        return "text"; // all null: matches nothing whatever the type
    }

    /** Array elements: numbers as they are; other types as their text form, parsed by the server. */
    private static Object[] elements(List<?> values) {
        Object first = null;
        for (Object v : values) {
            if (v != null) {
                first = v;
                break;
            }
        }
        if (first instanceof Long || first instanceof Integer || first instanceof Short) {
            // A Long[] (not Object[]): pgjdbc sends typed number arrays in binary, without formatting text.
            Object[] typed = (Object[]) java.lang.reflect.Array.newInstance(first.getClass(), values.size());
            try {
                return values.toArray(typed);
            } catch (ArrayStoreException mixed) { // Integer and Long keys in one List column: as they are
                return values.toArray();
            }
        }
        Object[] text = new String[values.size()];
        for (int i = 0; i < text.length; i++) {
            Object k = values.get(i);
            text[i] = k == null ? null : k instanceof BigDecimal d ? d.toPlainString() : k.toString();
        }
        return text;
    }

    /** The next power of two at or above {@code n}, but never above {@code max} (n itself is at most max). */
    static int padded(int n, int max) {
        int p = n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
        return Math.max(n, Math.min(p, max));
    }
}
