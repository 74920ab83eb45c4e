package dev.ferry.batch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A one-row {@code INSERT ... VALUES (?, ...)} rewritten so that one statement carries a whole batch on
 * PostgreSQL: {@code INSERT ... SELECT <the VALUES items> FROM unnest(?::t1[], ?::t2[], ...) AS ferry_u(p1, p2,
 * ...)}, one typed array per parameter, whatever follows VALUES ({@code ON CONFLICT ...}) kept as it is.
 *
 * <p>Only these statements are rewritten ({@link #of} refuses the others, with the reason):
 * <ul>
 *   <li>{@code INSERT INTO t (columns) VALUES (one tuple)}: a column list, one tuple whose items are {@code ?},
 *       literals or expressions over them (not {@code DEFAULT}, not a sub-select, which would see one snapshot
 *       for the whole batch instead of one per row; none after VALUES either), and every {@code ?} of the statement
 *       inside it;
 *   <li>then nothing, {@code ON CONFLICT ... DO NOTHING}, or {@code ON CONFLICT (columns) DO UPDATE SET ...} whose
 *       target columns take a bare {@code ?} each. PostgreSQL refuses to update one row twice in one statement,
 *       so a batch with two upserts of one key is split into rounds ({@link #rounds}), run in order in the same
 *       transaction: each key's rows apply in their order, as they would one by one (rows of different keys are
 *       independent, so their relative order does not matter);
 *   <li>one statement: no {@code ;} but a last one, and no {@code RETURNING} of the user's own (the writer does not
 *       read it; {@code returningKey} adds one).
 * </ul>
 * Comments are dropped from the rewritten text (a line comment would otherwise swallow what is appended after it).
 *
 * <p>What stays different from one statement per row, by nature: statement-level triggers (and their transition
 * tables) fire once per batch statement, and a DO NOTHING or DO UPDATE ... WHERE statement reports one total for
 * its rows (see {@code PostgresArrayWrites} for update counts).
 */
final class PostgresArrayInsert {

    private static final Pattern HEAD = Pattern.compile(
            "(?is)^\\s*INSERT\\s+INTO\\s+([^()]+?)\\s*\\(([^()]*)\\)\\s*VALUES\\s*\\(");
    private static final Pattern ALIAS = Pattern.compile("(?is)\\s+AS\\s+\\S+$");
    private static final Pattern DO_NOTHING = Pattern.compile("(?is)^ON\\s+CONFLICT\\b.*\\bDO\\s+NOTHING$");
    private static final Pattern DO_UPDATE = Pattern.compile(
            "(?is)^ON\\s+CONFLICT\\s*\\(([^()]*)\\)\\s*DO\\s+UPDATE\\s+SET\\b.*$");
    private static final Pattern WORD_DEFAULT = Pattern.compile("(?i)\\bDEFAULT\\b");
    /** A sub-query: it would see one snapshot for the whole batch instead of one per row. */
    private static final Pattern SUBQUERY = Pattern.compile("(?i)\\b(SELECT|TABLE|VALUES)\\b");
    private static final Pattern WORD_RETURNING = Pattern.compile("(?i)\\bRETURNING\\b");
    /** Where parameter N goes in an item, until {@link #sql} writes {@code ferry_u.pN} (with a cast, if any). */
    private static final char MARK = '\u0000';

    /** Why a statement is not rewritten; the writer sends it as a plain JDBC batch. */
    static final class NotApplicable extends Exception {
        private static final long serialVersionUID = 1L;

        NotApplicable(String why) {
            super(why, null, false, false);
        }
    }

    private final String original;
    private final String table;
    private final String head;
    private final String[] items;
    private final String tail;
    private final int params;
    /** Per parameter: the column it is inserted into when its item is a bare {@code ?} (folded), else null. */
    private final String[] columnOfParam;
    /** Parameters (0-based) that make up the ON CONFLICT target of a DO UPDATE, or null. */
    private final int[] conflictParams;

    private PostgresArrayInsert(String original, String table, String head, String[] items, String tail, int params,
                                String[] columnOfParam, int[] conflictParams) {
        this.original = original;
        this.table = table;
        this.head = head;
        this.items = items;
        this.tail = tail;
        this.params = params;
        this.columnOfParam = columnOfParam;
        this.conflictParams = conflictParams;
    }

    /** @throws NotApplicable naming why this statement keeps its meaning only as a JDBC batch */
    static PostgresArrayInsert of(String original) throws NotApplicable {
        String sql = SqlText.withoutComments(original); // same positions as the mask
        String masked = SqlText.mask(original);
        Matcher m = HEAD.matcher(masked);
        if (!m.find()) {
            throw new NotApplicable("not INSERT INTO <table> (<columns>) VALUES (...)");
        }
        int open = m.end() - 1;
        int close = closing(masked, open);
        if (close < 0) {
            throw new NotApplicable("the VALUES tuple has no closing parenthesis");
        }
        int restFrom = close + 1;
        while (restFrom < masked.length() && Character.isWhitespace(masked.charAt(restFrom))) {
            restFrom++;
        }
        String restMasked = masked.substring(restFrom).strip();
        if (restMasked.endsWith(";")) {
            restMasked = restMasked.substring(0, restMasked.length() - 1).strip();
        }
        if (restMasked.startsWith(",")) {
            throw new NotApplicable("VALUES has more than one row");
        }
        if (masked.substring(0, restFrom).indexOf(';') >= 0 || restMasked.indexOf(';') >= 0) {
            throw new NotApplicable("more than one statement");
        }
        if (restMasked.indexOf('?') >= 0) {
            throw new NotApplicable("'?' after the VALUES tuple (each row's values must be in it)");
        }
        if (SUBQUERY.matcher(restMasked).find()) {
            throw new NotApplicable("a sub-select after VALUES (it would see one snapshot for the whole batch)");
        }
        if (WORD_RETURNING.matcher(restMasked).find()) {
            throw new NotApplicable("RETURNING (the writer does not read returned rows; use returningKey)");
        }
        List<String> columns = names(split(sql, masked, m.start(2), m.end(2)));
        List<int[]> itemSpans = spans(masked, open + 1, close);
        if (itemSpans.size() != columns.size()) {
            throw new NotApplicable(columns.size() + " columns but " + itemSpans.size() + " values");
        }
        String[] items = new String[itemSpans.size()];
        int[] paramOfItem = new int[itemSpans.size()]; // the parameter an item that is a bare '?' is, else -1
        List<String> columnOfParam = new ArrayList<>();
        int param = 0;
        for (int i = 0; i < items.length; i++) {
            int from = itemSpans.get(i)[0];
            int to = itemSpans.get(i)[1];
            String itemMasked = masked.substring(from, to);
            if (WORD_DEFAULT.matcher(itemMasked).find()) {
                throw new NotApplicable("DEFAULT in VALUES (it has no meaning in a SELECT list)");
            }
            if (SUBQUERY.matcher(itemMasked).find()) {
                throw new NotApplicable("a sub-select in VALUES (it would see one snapshot for the whole batch)");
            }
            boolean bare = itemMasked.strip().equals("?");
            paramOfItem[i] = bare ? param : -1;
            StringBuilder item = new StringBuilder();
            for (int k = from; k < to; k++) {
                if (masked.charAt(k) == '?') {
                    item.append(MARK).append(param++).append(MARK);
                    columnOfParam.add(bare ? columns.get(i) : null);
                } else {
                    item.append(sql.charAt(k));
                }
            }
            items[i] = item.toString().strip();
        }
        if (param == 0) {
            throw new NotApplicable("no '?' in VALUES: nothing differs from row to row");
        }
        if (SqlText.placeholdersOfMasked(masked) != param) {
            throw new NotApplicable("'?' outside the VALUES tuple");
        }
        int[] conflictParams = null;
        if (!restMasked.isEmpty()) {
            Matcher update = DO_UPDATE.matcher(restMasked);
            if (DO_NOTHING.matcher(restMasked).matches()) {
                conflictParams = null; // a duplicate within the batch is skipped, as one by one
            } else if (update.matches()) {
                int targetFrom = restFrom + update.start(1);
                List<String> target = names(split(sql, masked, targetFrom, targetFrom + update.group(1).length()));
                conflictParams = new int[target.size()];
                for (int t = 0; t < target.size(); t++) {
                    int column = columns.indexOf(target.get(t));
                    if (column < 0 || paramOfItem[column] < 0) {
                        throw new NotApplicable("the ON CONFLICT column '" + target.get(t) + "' does not take a "
                                + "bare '?' (needed to keep two upserts of one key apart)");
                    }
                    conflictParams[t] = paramOfItem[column];
                }
            } else {
                throw new NotApplicable("after VALUES: only ON CONFLICT ... DO NOTHING or ON CONFLICT (<columns>) "
                        + "DO UPDATE SET ... are rewritten");
            }
        }
        String tail = sql.substring(close + 1).strip();
        if (tail.endsWith(";")) {
            tail = tail.substring(0, tail.length() - 1).strip();
        }
        String head = sql.substring(0, m.end() - 1).replaceFirst("(?is)VALUES\\s*$", "").strip();
        String table = ALIAS.matcher(sql.substring(m.start(1), m.end(1)).strip()).replaceFirst("");
        return new PostgresArrayInsert(original, table, head, items, tail, param,
                columnOfParam.toArray(new String[0]), conflictParams);
    }

    /** The one-row statement as the user wrote it. */
    String oneRowSql() {
        return original;
    }

    /** The table as written (schema, quotes and all), for a {@code regclass} lookup. */
    String table() {
        return table;
    }

    /** Parameters per row: one array each. */
    int params() {
        return params;
    }

    /** The column parameter {@code p} (0-based) is inserted into, folded, if its item is a bare {@code ?}; else null. */
    String columnOf(int p) {
        return columnOfParam[p];
    }

    /**
     * The statement for one batch, given each parameter's array element type as written in SQL, and a type to
     * cast each parameter's elements to in the SELECT list (null: none). With {@code ordered}, rows are inserted
     * in the arrays' order explicitly, so generated keys come back in it.
     */
    String sql(String[] elementTypes, String[] casts, boolean ordered) {
        StringBuilder s = new StringBuilder(head.length() + 64 * params).append(head).append(" SELECT ");
        for (int i = 0; i < items.length; i++) {
            s.append(i == 0 ? "" : ", ");
            String item = items[i];
            for (int k = 0; k < item.length(); k++) {
                char c = item.charAt(k);
                if (c != MARK) {
                    s.append(c);
                    continue;
                }
                int end = item.indexOf(MARK, k + 1);
                int p = Integer.parseInt(item, k + 1, end, 10);
                if (casts[p] == null) {
                    s.append("ferry_u.p").append(p + 1);
                } else {
                    s.append("(ferry_u.p").append(p + 1).append("::").append(casts[p]).append(')');
                }
                k = end;
            }
        }
        s.append(" FROM unnest(");
        for (int p = 0; p < params; p++) {
            s.append(p == 0 ? "" : ", ").append("?::").append(elementTypes[p]).append("[]");
        }
        s.append(ordered ? ") WITH ORDINALITY AS ferry_u(" : ") AS ferry_u(");
        for (int p = 1; p <= params; p++) {
            s.append(p == 1 ? "p" : ", p").append(p);
        }
        s.append(ordered ? ", ferry_ord) ORDER BY ferry_u.ferry_ord" : ")");
        return tail.isEmpty() ? s.toString() : s.append(' ').append(tail).toString();
    }

    /**
     * The rows (indexes into {@code rows}) of each statement to run, in order: all in one, unless two rows of a
     * DO UPDATE share their conflict key; then the n-th row of each key goes in the n-th statement, so no
     * statement updates a row twice and later rows still win, as they would one by one.
     */
    List<int[]> rounds(List<Object[]> rows) {
        int[] all = new int[rows.size()];
        Arrays.setAll(all, i -> i);
        if (conflictParams == null) {
            return List.of(all);
        }
        Map<List<Object>, Integer> seen = new HashMap<>(rows.size() * 2);
        int[] round = new int[rows.size()];
        int rounds = 1;
        for (int r = 0; r < rows.size(); r++) {
            Object[] key = new Object[conflictParams.length];
            for (int k = 0; k < key.length; k++) {
                key[k] = asSqlCompares(rows.get(r)[conflictParams[k]]);
            }
            int n = seen.merge(Arrays.asList(key), 1, Integer::sum) - 1;
            round[r] = n;
            rounds = Math.max(rounds, n + 1);
        }
        if (rounds == 1) {
            return List.of(all);
        }
        List<int[]> out = new ArrayList<>(rounds);
        for (int n = 0; n < rounds; n++) {
            int size = 0;
            for (int r : round) {
                size += r == n ? 1 : 0;
            }
            int[] these = new int[size];
            int i = 0;
            for (int r = 0; r < round.length; r++) {
                if (round[r] == n) {
                    these[i++] = r;
                }
            }
            out.add(these);
        }
        return out;
    }

    /**
     * A key part with Java equality closer to SQL's: byte arrays by content, numbers by value whatever their
     * class or scale. Where the database still sees two parts as equal that Java does not (a case-insensitive
     * collation), PostgreSQL refuses the statement (21000) and the batch goes as a plain JDBC batch.
     */
    private static Object asSqlCompares(Object v) {
        if (v instanceof byte[] b) {
            return java.nio.ByteBuffer.wrap(b);
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof java.math.BigDecimal d) {
            return d.signum() == 0 ? java.math.BigDecimal.ZERO : d.stripTrailingZeros();
        }
        if (v instanceof java.time.OffsetDateTime t) {
            return t.toInstant();
        }
        return v;
    }

    /** The position after the parenthesis matching the one at {@code open}, minus one; -1 if unbalanced. */
    private static int closing(String masked, int open) {
        int depth = 0;
        for (int i = open; i < masked.length(); i++) {
            char c = masked.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    /** The spans of the comma-separated items between {@code from} and {@code to}, at parenthesis depth 0. */
    private static List<int[]> spans(String masked, int from, int to) {
        List<int[]> out = new ArrayList<>();
        int depth = 0;
        int start = from;
        for (int i = from; i < to; i++) {
            char c = masked.charAt(i);
            if (c == '(' || c == '[') {
                depth++;
            } else if (c == ')' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(new int[] {start, i});
                start = i + 1;
            }
        }
        out.add(new int[] {start, to});
        return out;
    }

    /** The items between {@code from} and {@code to} of the original text. */
    private static List<String> split(String sql, String masked, int from, int to) {
        List<String> out = new ArrayList<>();
        for (int[] span : spans(masked, from, to)) {
            out.add(sql.substring(span[0], span[1]).strip());
        }
        return out;
    }

    /** PostgreSQL's folding of an unquoted name: A to Z in lower case, every other letter as it is. */
    private static String foldAscii(String name) {
        char[] out = name.toCharArray();
        for (int i = 0; i < out.length; i++) {
            if (out[i] >= 'A' && out[i] <= 'Z') {
                out[i] = (char) (out[i] + ('a' - 'A'));
            }
        }
        return new String(out);
    }

    /** Column names as PostgreSQL folds them: quoted as written, unquoted with A to Z in lower case. */
    private static List<String> names(List<String> written) {
        List<String> out = new ArrayList<>(written.size());
        for (String w : written) {
            out.add(w.length() > 1 && w.startsWith("\"") && w.endsWith("\"")
                    ? w.substring(1, w.length() - 1).replace("\"\"", "\"") : foldAscii(w));
        }
        return out;
    }
}
