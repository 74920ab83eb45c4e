package dev.ferry.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SqlFingerprintTest {

    static Stream<Arguments> statements() {
        return Stream.of(
                Arguments.of("SELECT * FROM users WHERE discord_id = 42", "SELECT * FROM users WHERE discord_id = ?"),
                Arguments.of("select name from t where a = 'it''s' and b = -1.5e3",
                        "select name from t where a = ? and b = -?"),
                Arguments.of("SELECT * FROM t WHERE id IN (1, 2, 3,4)", "SELECT * FROM t WHERE id IN (?, ...)"),
                Arguments.of("SELECT * FROM t WHERE id = ANY(?)", "SELECT * FROM t WHERE id = ANY(?)"),
                Arguments.of("INSERT INTO t (a, b) VALUES ($1, $2)", "INSERT INTO t (a, b) VALUES (?, ...)"),
                Arguments.of("SELECT  a,\n\tb -- a comment 42\nFROM /* 7 */ t1 WHERE c2 = E'x\\'y'",
                        "SELECT a, b FROM t1 WHERE c2 = ?"),
                Arguments.of("SELECT \"Col 1\" FROM \"T\" WHERE x = 0x1F", "SELECT \"Col 1\" FROM \"T\" WHERE x = ?"),
                Arguments.of("UPDATE server_stats SET n = n + 1 WHERE guild_id = 99",
                        "UPDATE server_stats SET n = n + ? WHERE guild_id = ?"),
                Arguments.of("SELECT name FROM t WHERE note = 'password=hunter2'", "SELECT name FROM t WHERE note = ?"),
                Arguments.of("SELECT $$hunter2$$, $tag$it's $$ secret$tag$ FROM t", "SELECT ?, ... FROM t"),
                Arguments.of("SET a='C:\\', pw='hunter2'", "SET a=?, pw=?"),
                Arguments.of("SELECT * FROM t WHERE pw = 'it\\'s hunter2'", "SELECT * FROM t WHERE pw = ?"),
                Arguments.of("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')", "INSERT INTO t VALUES (?, ...), ..."),
                Arguments.of("INSERT INTO t VALUES (1), (2)", "INSERT INTO t VALUES (?, ...), ..."),
                Arguments.of("SELECT x FROM t WHERE s = 'unterminated hunter2", "SELECT x FROM t WHERE s = ?"));
    }

    @ParameterizedTest
    @MethodSource("statements")
    void literalsGoAndStructureStays(String sql, String fingerprint) {
        assertThat(SqlFingerprint.of(sql)).isEqualTo(fingerprint).doesNotContain("hunter2");
    }

    @org.junit.jupiter.api.Test
    void mySqlReadsDoubleQuotesAsStringsAndBackslashesAsEscapes() {
        assertThat(SqlFingerprint.ofMySql("SELECT * FROM `users` WHERE pw = \"hunter2\" AND n = 'a\\'b'"))
                .isEqualTo("SELECT * FROM `users` WHERE pw = ? AND n = ?");
        assertThat(SqlFingerprint.of("SELECT \"Pw\" FROM t WHERE a = 1")).as("standard: a quoted name")
                .isEqualTo("SELECT \"Pw\" FROM t WHERE a = ?");
    }
}
