package dev.ferry.observe;

/**
 * A statement's fingerprint: its text with every literal replaced by {@code ?}, so {@code WHERE id = 42} and
 * {@code WHERE id = 7} are one statement. String (also {@code E''} and dollar-quoted {@code $$...$$},
 * {@code $tag$...$tag$}), numeric and positional ({@code $1}) literals become {@code ?}; a list of them
 * ({@code IN (?, ?, ?)}) becomes {@code ?, ...}, and a list of such rows ({@code VALUES (?, ...), (?, ...)})
 * {@code (?, ...), ...}; comments go; runs of white space become one space. Quoted identifiers and keywords are
 * kept as written. A fingerprint holds no literal value, so it is safe to log and to use as a metric label.
 *
 * <p>Two dialects differ in how strings are written. The standard one (PostgreSQL, H2, ...) reads backslashes as
 * escapes only in {@code E''} strings and {@code "..."} as a quoted name. {@link #ofMySql} reads backslash escapes
 * in every string and {@code "..."} as a string, as MySQL and MariaDB do by default. Where the standard reading
 * of a statement with backslashes would leave more of it than the MySQL one, the shorter is kept: of two
 * readings, the one that folds more into {@code ?} never shows what the other hid.
 */
public final class SqlFingerprint {

    /** Rows of literals: {@code (?, ...), (?, ...)} or {@code (?), (?)}. */
    private static final java.util.regex.Pattern ROWS = java.util.regex.Pattern.compile(
            "\\((?:\\?, \\.\\.\\.|\\?)\\)(?:\\s*,\\s*\\((?:\\?, \\.\\.\\.|\\?)\\))+");

    /** Two or more literals in a row, separated by commas. */
    private static final java.util.regex.Pattern LIST = java.util.regex.Pattern.compile("\\?(?:\\s*,\\s*\\?)+");

    private SqlFingerprint() {
    }

    /** The standard reading (PostgreSQL, H2, SQL Server, Oracle); see the class notes for backslashes. */
    public static String of(String sql) {
        String standard = of(sql, false);
        if (sql.indexOf('\\') < 0) {
            return standard;
        }
        String mysql = of(sql, true);
        return mysql.length() < standard.length() ? mysql : standard;
    }

    /** MySQL's and MariaDB's reading: backslash escapes in every string, {@code "..."} is a string. */
    public static String ofMySql(String sql) {
        return of(sql, true);
    }

    private static String of(String sql, boolean mysql) {
        int n = sql.length();
        StringBuilder out = new StringBuilder(Math.min(n, 4096));
        boolean space = false;
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            char next = i + 1 < n ? sql.charAt(i + 1) : 0;
            if (Character.isWhitespace(c)) {
                space = true;
                i++;
                continue;
            }
            if (c == '-' && next == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
                space = true;
                continue;
            }
            if (c == '/' && next == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                space = true;
                continue;
            }
            if (space && out.length() > 0) {
                out.append(' ');
            }
            space = false;
            if (c == '\'' || (mysql && c == '"')) {
                i = skipString(sql, i, c, mysql);
                literal(out);
            } else if ((c == 'E' || c == 'e') && next == '\'' && !identifierEnds(out)) {
                i = skipString(sql, i + 1, '\'', true);
                literal(out);
            } else if ((c == 'N' || c == 'n' || c == 'X' || c == 'x' || c == 'B' || c == 'b') && next == '\''
                    && !identifierEnds(out)) {
                i = skipString(sql, i + 1, '\'', mysql);
                literal(out);
            } else if (c == '$' && !identifierEnds(out) && dollarTag(sql, i) > 0) {
                int tagEnd = dollarTag(sql, i);
                String tag = sql.substring(i, tagEnd);
                int close = sql.indexOf(tag, tagEnd);
                i = close < 0 ? n : close + tag.length();
                literal(out);
            } else if (c == '"' || c == '`') {
                int end = sql.indexOf(c, i + 1);
                end = end < 0 ? n : end + 1;
                out.append(sql, i, end);
                i = end;
            } else if (Character.isDigit(c) || (c == '.' && Character.isDigit(next))) {
                i = skipNumber(sql, i);
                literal(out);
            } else if (c == '$' && Character.isDigit(next)) {
                i++;
                while (i < n && Character.isDigit(sql.charAt(i))) {
                    i++;
                }
                literal(out);
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_'
                        || sql.charAt(i) == '$')) {
                    i++;
                }
                out.append(sql, start, i);
            } else {
                out.append(c);
                i++;
            }
        }
        String folded = LIST.matcher(out).replaceAll("?, ...");
        return ROWS.matcher(folded).replaceAll("(?, ...), ...");
    }

    /** The end of a dollar-quote opening tag ({@code $$} or {@code $name$}) at {@code i}, or -1. */
    private static int dollarTag(String sql, int i) {
        int j = i + 1;
        while (j < sql.length() && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
            if (j == i + 1 && Character.isDigit(sql.charAt(j))) {
                return -1; // $1: a positional parameter
            }
            j++;
        }
        return j < sql.length() && sql.charAt(j) == '$' ? j + 1 : -1;
    }

    private static void literal(StringBuilder out) {
        out.append('?');
    }

    private static boolean identifierEnds(StringBuilder out) {
        if (out.length() == 0) {
            return false;
        }
        char last = out.charAt(out.length() - 1);
        return Character.isLetterOrDigit(last) || last == '_';
    }

    /**
     * From an opening quote, past the closing one (a doubled quote is one inside; with {@code backslashes}, a
     * backslash escapes the next character). An unterminated string runs to the end.
     */
    private static int skipString(String sql, int quote, char q, boolean backslashes) {
        int i = quote + 1;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (backslashes && c == '\\' && i + 1 < n) {
                i += 2;
                continue;
            }
            if (c == q) {
                if (i + 1 < n && sql.charAt(i + 1) == q) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return n;
    }

    private static int skipNumber(String sql, int i) {
        int n = sql.length();
        boolean hex = sql.startsWith("0x", i) || sql.startsWith("0X", i);
        if (hex) {
            i += 2;
        }
        while (i < n) {
            char c = sql.charAt(i);
            boolean exponentSign = (c == '+' || c == '-') && !hex
                    && (sql.charAt(i - 1) == 'e' || sql.charAt(i - 1) == 'E');
            if (Character.isDigit(c) || (c == '.' && !hex) || exponentSign || (!hex && (c == 'e' || c == 'E'))
                    || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))) {
                i++;
            } else {
                break;
            }
        }
        return i;
    }
}
