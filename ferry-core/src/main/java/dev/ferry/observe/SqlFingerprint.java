package dev.ferry.observe;

/**
 * A statement's fingerprint: its text with every literal replaced by {@code ?}, so {@code WHERE id = 42} and
 * {@code WHERE id = 7} are one statement. String, numeric and PostgreSQL positional ({@code $1}) literals become
 * {@code ?}; a list of them ({@code IN (?, ?, ?)}) becomes {@code ?, ...}; comments go; runs of white space
 * become one space. Quoted identifiers and keywords are kept as written. A fingerprint never holds a literal
 * value, so it is safe to log and to use as a metric label.
 */
public final class SqlFingerprint {

    /** Two or more literals in a row, separated by commas. */
    private static final java.util.regex.Pattern LIST = java.util.regex.Pattern.compile("\\?(?:\\s*,\\s*\\?)+");

    private SqlFingerprint() {
    }

    public static String of(String sql) {
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
            if (c == '\'' || ((c == 'E' || c == 'e' || c == 'N' || c == 'n') && next == '\''
                    && !identifierEnds(out))) {
                i = skipString(sql, c == '\'' ? i : i + 1);
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
        return LIST.matcher(out).replaceAll("?, ...");
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

    /** From an opening quote, past the closing one ({@code ''} is an escaped quote inside). */
    private static int skipString(String sql, int quote) {
        int i = quote + 1;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\\' && i + 1 < n) {
                i += 2; // MySQL and E'' strings escape with a backslash
                continue;
            }
            if (c == '\'') {
                if (i + 1 < n && sql.charAt(i + 1) == '\'') {
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
