package dev.ferry.batch;

/**
 * The structure of a SQL text without its literals: {@link #mask} blanks out what is inside quotes and comments,
 * keeping every other character where it was, so a search of the masked text finds only real placeholders,
 * parentheses and commas, and its positions index the original text.
 *
 * <p>Understood: {@code '...'} with {@code ''} inside, PostgreSQL's {@code E'..\'..'} escapes and
 * {@code $tag$..$tag$} dollar quotes, {@code "..."} identifiers, {@code --} and {@code /* *}{@code /} comments,
 * and pgjdbc's escaped {@code ??}. Not understood: MySQL's backslash escapes in ordinary strings and backtick or
 * bracket identifiers holding a {@code ?}, a parenthesis or a comma; a statement with those may be misread (a
 * key list statement then fails with the driver's parameter error; a write falls back to a plain JDBC batch).
 */
final class SqlText {

    /** What replaces quoted text: not a placeholder, parenthesis, comma or space, so a quoted name stays a word. */
    private static final char QUOTED = '_';

    private SqlText() {
    }

    /**
     * The text with the inside of every quote replaced by {@code _} (the quote characters kept), every comment
     * by spaces, and pgjdbc's {@code ??} by two spaces; same length as {@code sql}.
     */
    static String mask(String sql) {
        return scan(sql, true);
    }

    /** The text with every comment replaced by spaces (a line comment's newline kept), literals as they are. */
    static String withoutComments(String sql) {
        return scan(sql, false);
    }

    private static String scan(String sql, boolean blankLiterals) {
        char[] out = sql.toCharArray();
        for (int i = 0; i < out.length; i++) {
            char ch = sql.charAt(i);
            if (ch == '\'' || ch == '"') {
                boolean escapes = ch == '\'' && i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e');
                int j = i + 1;
                while (j < sql.length()) {
                    char c = sql.charAt(j);
                    if (escapes && c == '\\') {
                        j += 2;
                    } else if (c == ch && j + 1 < sql.length() && sql.charAt(j + 1) == ch) {
                        j += 2; // a doubled quote inside
                    } else if (c == ch) {
                        break;
                    } else {
                        j++;
                    }
                }
                if (blankLiterals) {
                    fill(out, i + 1, Math.min(j, out.length), QUOTED);
                }
                i = Math.min(j, out.length);
            } else if (ch == '$' && dollarTag(sql, i) != null) {
                String tag = dollarTag(sql, i);
                int end = sql.indexOf(tag, i + tag.length());
                int close = end < 0 ? out.length : end + tag.length();
                if (blankLiterals) {
                    fill(out, i + tag.length(), end < 0 ? out.length : end, QUOTED);
                }
                i = close - 1;
            } else if (ch == '-' && i + 1 < sql.length() && sql.charAt(i + 1) == '-') {
                int eol = sql.indexOf('\n', i);
                int end = eol < 0 ? out.length : eol;
                fill(out, i, end, ' ');
                i = end;
            } else if (ch == '/' && i + 1 < sql.length() && sql.charAt(i + 1) == '*') {
                int close = sql.indexOf("*/", i + 2);
                int end = close < 0 ? out.length : close + 2;
                fill(out, i, end, ' ');
                i = end - 1;
            } else if (ch == '?' && i + 1 < sql.length() && sql.charAt(i + 1) == '?') {
                if (blankLiterals) {
                    out[i] = ' '; // ?? : pgjdbc's escape for a literal ? operator
                    out[i + 1] = ' ';
                }
                i++;
            }
        }
        return new String(out);
    }

    /** JDBC placeholders ({@code ?}) outside quotes and comments. */
    static int placeholders(String sql) {
        return placeholdersOfMasked(mask(sql));
    }

    /** {@code ?} in a text {@link #mask} already returned. */
    static int placeholdersOfMasked(String masked) {
        int n = 0;
        for (int i = 0; i < masked.length(); i++) {
            if (masked.charAt(i) == '?') {
                n++;
            }
        }
        return n;
    }

    private static void fill(char[] out, int from, int to, char with) {
        for (int k = from; k < to; k++) {
            out[k] = with;
        }
    }

    /** A PostgreSQL dollar-quote tag ({@code $$} or {@code $name$}) starting at {@code i}, or null. */
    private static String dollarTag(String sql, int i) {
        int j = i + 1;
        while (j < sql.length() && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
            j++;
        }
        if (j < sql.length() && sql.charAt(j) == '$' && (j == i + 1 || !Character.isDigit(sql.charAt(i + 1)))) {
            return sql.substring(i, j + 1);
        }
        return null; // $1 and the like: not a tag
    }
}
