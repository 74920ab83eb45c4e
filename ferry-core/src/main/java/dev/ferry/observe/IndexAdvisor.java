package dev.ferry.observe;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Proposes indexes for PostgreSQL statements from their execution plans: a sequential scan of a large table
 * (at least {@code minTableRows} rows, by the planner's statistics) whose filter keeps a small share of it (at most
 * {@code maxSelectivity}) on plain columns gets an index on those columns, equality columns first, then one
 * range column, unless an index already leads with the first of them.
 *
 * <p>Plans come from plain {@code EXPLAIN}, which runs nothing; {@code EXPLAIN ANALYZE} (which runs the statement)
 * only when {@link #analyze} is set, and only for statements that start with {@code SELECT}. Statements with
 * parameters ({@code ?}, {@code $1}, as fingerprints and {@code pg_stat_statements} have them) are prepared and
 * explained with PostgreSQL's generic plan, which needs no values. With the {@code hypopg} extension installed in
 * the database, each proposal is created as a hypothetical index (visible to this session only, nothing is
 * written) to give the planner's cost with it; without hypopg, only the cost now is given.
 *
 * <p>Everything runs in a transaction that is rolled back, on the connection given: with autocommit on, its own
 * (autocommit is restored after); with autocommit off, a savepoint in the caller's transaction, rolled back to.
 * The prepared statement and hypothetical indexes it makes are removed after, also when it fails. Only single
 * statements are explained: a text with a {@code ;} between statements is refused.
 */
public final class IndexAdvisor {

    /**
     * A filter term on a plain column, as the plan prints it: {@code (col = ...)}, {@code ((col)::text = ...)},
     * {@code (t.col < ...)}, {@code ("Some Table"."userId" = ...)}. Group 1 or 2: the column (quoted or plain);
     * group 3: the operator.
     */
    private static final Pattern TERM = Pattern.compile(
            "(?<![A-Za-z0-9_(])\\(+(?:\"(?:[^\"]|\"\")+\"\\.|[A-Za-z_][A-Za-z0-9_$]*\\.)?"
                    + "(?:\"((?:[^\"]|\"\")+)\"|([A-Za-z_][A-Za-z0-9_$]*))\\)?"
                    + "(?:::[A-Za-z ]+(?:\\[])?\\)?)? (=|<|<=|>|>=) ");

    private final boolean analyze;
    private final long minTableRows;
    private final double maxSelectivity;

    private IndexAdvisor(boolean analyze, long minTableRows, double maxSelectivity) {
        this.analyze = analyze;
        this.minTableRows = minTableRows;
        this.maxSelectivity = maxSelectivity;
    }

    /** Plain EXPLAIN, tables of 10,000 rows or more, filters keeping 5% or less. */
    public static IndexAdvisor create() {
        return new IndexAdvisor(false, 10_000, 0.05);
    }

    /** Also runs SELECT statements ({@code EXPLAIN ANALYZE}), so actual row counts decide selectivity. */
    public IndexAdvisor analyze(boolean analyze) {
        return new IndexAdvisor(analyze, minTableRows, maxSelectivity);
    }

    public IndexAdvisor minTableRows(long rows) {
        if (rows < 0) {
            throw new IllegalArgumentException("minTableRows: got " + rows + "; allowed: 0 or more");
        }
        return new IndexAdvisor(analyze, rows, maxSelectivity);
    }

    public IndexAdvisor maxSelectivity(double share) {
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException("maxSelectivity: got " + share + "; allowed: more than 0, at most 1");
        }
        return new IndexAdvisor(analyze, minTableRows, share);
    }

    /**
     * Proposals for one statement; none if its plan needs no index.
     *
     * @throws SQLException if it cannot be explained (a syntax error, an unknown table, a parameter whose type the
     *                      server cannot infer), or if it is several statements
     */
    public List<IndexAdvice> advise(Connection connection, String sql) throws SQLException {
        String statement = sql.trim();
        while (statement.endsWith(";")) {
            statement = statement.substring(0, statement.length() - 1).trim();
        }
        if (SqlFingerprint.of(statement).contains(";")) {
            throw new SQLException("index advisor: got several statements; allowed: one statement", "42601");
        }
        String prepared = "ferry_advise_" + Long.toHexString(System.nanoTime()) + "_" + Long.toHexString(
                Thread.currentThread().getId());
        boolean autoCommit = connection.getAutoCommit();
        java.sql.Savepoint savepoint = null;
        if (autoCommit) {
            connection.setAutoCommit(false);
        } else {
            savepoint = connection.setSavepoint();
        }
        try {
            return adviseInTransaction(connection, statement, prepared);
        } finally {
            try {
                if (savepoint == null) {
                    connection.rollback(); // EXPLAIN ANALYZE of a SELECT leaves nothing behind
                } else {
                    connection.rollback(savepoint);
                    connection.releaseSavepoint(savepoint);
                }
            } finally {
                if (autoCommit) {
                    connection.setAutoCommit(true);
                }
                cleanUp(connection, prepared);
            }
        }
    }

    /** PREPARE and hypopg's indexes outlive a rollback: drop ours (quietly: there may be none). */
    private static void cleanUp(Connection c, String prepared) {
        for (String sql : new String[] {"DEALLOCATE " + prepared, "SELECT hypopg_reset()"}) {
            java.sql.Savepoint sp = null;
            try (Statement s = c.createStatement()) {
                if (!c.getAutoCommit()) {
                    sp = c.setSavepoint();
                }
                s.execute(sql);
                if (sp != null) {
                    c.releaseSavepoint(sp);
                }
            } catch (SQLException notThere) {
                try {
                    if (sp != null) {
                        c.rollback(sp);
                    }
                } catch (SQLException ignored) {
                    // the connection is broken: nothing left to clean
                }
            }
        }
    }

    /** Proposals for the {@code n} slowest statements a pool has seen (their fingerprints), most costly first. */
    public List<IndexAdvice> advise(Connection connection, SqlStatistics statistics, int n) throws SQLException {
        List<IndexAdvice> out = new ArrayList<>();
        for (StatementStats s : statistics.topSlowest(n)) {
            if (isSelect(s.fingerprint())) {
                out.addAll(advise(connection, s.fingerprint()));
            }
        }
        return out;
    }

    private List<IndexAdvice> adviseInTransaction(Connection c, String sql, String prepared) throws SQLException {
        boolean hypopg = hasHypopg(c);
        Map<String, Object> plan = explain(c, sql, prepared);
        double costBefore = number(plan, "Total Cost");
        List<IndexAdvice> out = new ArrayList<>();
        for (Map<String, Object> scan : seqScans(plan, new ArrayList<>())) {
            String schema = (String) scan.get("Schema");
            String relation = (String) scan.get("Relation Name");
            String filter = (String) scan.get("Filter");
            if (filter == null || schema == null || relation == null) {
                continue;
            }
            Table t = table(c, schema, relation);
            String table = t.name();
            long oid = t.oid();
            double tableRows = t.rows();
            double kept = scan.containsKey("Actual Rows") ? number(scan, "Actual Rows") * Math.max(1,
                    number(scan, "Actual Loops")) : number(scan, "Plan Rows");
            if (tableRows < minTableRows || kept > tableRows * maxSelectivity) {
                continue;
            }
            List<String> columns = columns(c, oid, filter);
            if (columns.isEmpty() || leadingIndexExists(c, oid, columns.get(0))) {
                continue;
            }
            List<String> quoted = new ArrayList<>();
            for (String col : columns) {
                quoted.add(ident(c, col));
            }
            String create = "CREATE INDEX ON " + table + " (" + String.join(", ", quoted) + ")";
            String reason = String.format(Locale.ROOT, "Seq Scan on %s: filter %s keeps ~%.0f of %.0f rows%s", table,
                    filter, kept, tableRows, scan.containsKey("Actual Rows") ? " (actual)" : " (estimated)");
            double costAfter = Double.NaN;
            if (hypopg) {
                try (PreparedStatement ps = c.prepareStatement("SELECT indexrelid FROM hypopg_create_index(?)")) {
                    ps.setString(1, create);
                    ps.executeQuery().close();
                }
                try {
                    costAfter = number(explainPlain(c, sql, prepared), "Total Cost");
                } finally {
                    try (Statement s = c.createStatement()) {
                        s.execute("SELECT hypopg_reset()"); // one hypothetical index at a time
                    }
                }
            }
            out.add(new IndexAdvice(sql, table, columns, create, reason, costBefore, costAfter));
        }
        return out;
    }

    private Map<String, Object> explain(Connection c, String sql, String prepared) throws SQLException {
        if (analyze && isSelect(sql) && !hasParameters(sql)) {
            return plan(c, "EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) " + sql);
        }
        return explainPlain(c, sql, prepared);
    }

    /** Plain EXPLAIN; a statement with parameters is prepared and explained with its generic plan. */
    private Map<String, Object> explainPlain(Connection c, String sql, String prepared) throws SQLException {
        if (!hasParameters(sql)) {
            return plan(c, "EXPLAIN (VERBOSE, FORMAT JSON) " + sql);
        }
        String numbered = numberParameters(sql);
        int count = countParameters(numbered);
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL plan_cache_mode = force_generic_plan");
            s.execute("PREPARE " + prepared + " AS " + numbered);
            Map<String, Object> plan = plan(c, "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE " + prepared + "("
                    + String.join(", ", java.util.Collections.nCopies(count, "NULL")) + ")");
            s.execute("DEALLOCATE " + prepared); // on failure, cleanUp does it after the rollback
            return plan;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> plan(Connection c, String explain) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(explain)) {
            StringBuilder json = new StringBuilder();
            while (rs.next()) {
                json.append(rs.getString(1)).append('\n');
            }
            List<Object> root = (List<Object>) PlanJson.parse(json.toString());
            return (Map<String, Object>) ((Map<String, Object>) root.get(0)).get("Plan");
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> seqScans(Map<String, Object> node, List<Map<String, Object>> out) {
        if ("Seq Scan".equals(node.get("Node Type"))) {
            out.add(node);
        }
        Object children = node.get("Plans");
        if (children instanceof List) {
            for (Object child : (List<Object>) children) {
                seqScans((Map<String, Object>) child, out);
            }
        }
        return out;
    }

    /** The filter's plain columns that exist in the table: equality ones in order, then one range one. */
    private static List<String> columns(Connection c, long table, String filter) throws SQLException {
        Set<String> equal = new LinkedHashSet<>();
        Set<String> range = new LinkedHashSet<>();
        Matcher m = TERM.matcher(filter);
        while (m.find()) {
            String column = m.group(1) != null ? m.group(1).replace("\"\"", "\"") : m.group(2);
            (m.group(3).equals("=") ? equal : range).add(column);
        }
        List<String> columns = new ArrayList<>();
        for (String col : equal) {
            if (isColumn(c, table, col)) {
                columns.add(col);
            }
        }
        for (String col : range) {
            if (!columns.contains(col) && isColumn(c, table, col)) {
                columns.add(col);
                break; // after a range column an index helps no further
            }
        }
        return columns;
    }

    private static boolean isColumn(Connection c, long table, String column) throws SQLException {
        return firstRow(c, "SELECT 1 FROM pg_attribute WHERE attrelid = ?::oid AND attname = ? AND attnum > 0 "
                + "AND NOT attisdropped", rs -> true, false, table, column);
    }

    private static boolean leadingIndexExists(Connection c, long table, String column) throws SQLException {
        return firstRow(c, "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                + "AND a.attnum = i.indkey[0] WHERE i.indrelid = ?::oid AND a.attname = ?", rs -> true, false, table,
                column);
    }

    /** A table: its oid, its name as SQL must write it, and the planner's row count. */
    private record Table(long oid, String name, double rows) {
    }

    /** The table, looked up by its names as the plan gives them (no quoting, no case folding). */
    private static Table table(Connection c, String schema, String relation) throws SQLException {
        Table t = firstRow(c, "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.reltuples "
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?",
                rs -> new Table(rs.getLong(1), rs.getString(2), rs.getDouble(3)), null, schema, relation);
        if (t == null) {
            throw new SQLException("index advisor: table " + schema + "." + relation + " not found", "42P01");
        }
        return t;
    }

    /** A name as SQL must write it (PostgreSQL's quote_ident: quoted if upper case, special or a keyword). */
    private static String ident(Connection c, String name) throws SQLException {
        return firstRow(c, "SELECT quote_ident(?)", rs -> rs.getString(1), name, name);
    }

    private static boolean hasHypopg(Connection c) throws SQLException {
        return firstRow(c, "SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", rs -> true, false);
    }

    /** Reads one row of a query's result. */
    @FunctionalInterface
    private interface Row<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /** The first row of a catalog query, read by {@code row}; {@code none} when there is no row. */
    private static <T> T firstRow(Connection c, String sql, Row<T> row, T none, Object... params)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? row.read(rs) : none;
            }
        }
    }

    /** Whether hypopg is installed in the database the connection is on (then costs with each index are given). */
    public static boolean hypopgInstalled(Connection c) throws SQLException {
        return hasHypopg(c);
    }

    static boolean isSelect(String sql) {
        return sql.trim().regionMatches(true, 0, "SELECT", 0, 6);
    }

    static boolean hasParameters(String sql) {
        return Pattern.compile("\\$\\d").matcher(numberParameters(sql)).find();
    }

    /**
     * JDBC's {@code ?} (and a fingerprint's {@code ?, ...} list) as PostgreSQL's {@code $1, $2, ...}, outside
     * string literals and quoted names; {@code $n} already there are kept.
     */
    static String numberParameters(String sql) {
        String s = sql.replace("?, ...", "?");
        StringBuilder out = new StringBuilder();
        int n = 0;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (quote != 0) {
                if (ch == quote) {
                    quote = 0;
                }
                out.append(ch);
            } else if (ch == '\'' || ch == '"') {
                quote = ch;
                out.append(ch);
            } else if (ch == '?') {
                out.append('$').append(++n);
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }

    private static int countParameters(String numbered) {
        int max = 0;
        Matcher m = Pattern.compile("\\$(\\d+)").matcher(numbered);
        while (m.find()) {
            max = Math.max(max, Integer.parseInt(m.group(1)));
        }
        return max;
    }

    private static double number(Map<String, Object> node, String key) {
        Object v = node.get(key);
        return v instanceof Number ? ((Number) v).doubleValue() : Double.NaN;
    }
}
