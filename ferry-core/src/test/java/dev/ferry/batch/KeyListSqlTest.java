package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.batch.KeyListSql.Dialect;
import org.junit.jupiter.api.Test;

/** Statement shapes per dialect and the per-database caps on one statement's key list. */
class KeyListSqlTest {

    private final KeyListSql keys = KeyListSql.of("SELECT id FROM t WHERE id IN (:keys)", Long.class, null);

    @Test
    void postgresUsesOneArrayParameterForAnySize() {
        assertThat(keys.sql(Dialect.POSTGRES, 5000)).isEqualTo("SELECT id FROM t WHERE id = ANY(?)");
    }

    @Test
    void othersPadToAPowerOfTwoButNeverPastTheDatabasesCap() {
        assertThat(KeyListSql.padded(1, Dialect.MYSQL.maxKeys)).isEqualTo(1);
        assertThat(KeyListSql.padded(5, Dialect.MYSQL.maxKeys)).isEqualTo(8);
        assertThat(KeyListSql.padded(600, Dialect.ORACLE.maxKeys)).isEqualTo(1000);
        assertThat(KeyListSql.padded(1000, Dialect.ORACLE.maxKeys)).isEqualTo(1000);
        assertThat(KeyListSql.padded(1500, Dialect.SQLSERVER.maxKeys)).isEqualTo(2000);
        assertThat(keys.sql(Dialect.ORACLE, 3)).isEqualTo("SELECT id FROM t WHERE id IN (?, ?, ?, ?)");
        assertThat(Dialect.ORACLE.maxKeys).isEqualTo(1000);
        assertThat(Dialect.SQLSERVER.maxKeys).isLessThan(2100);
    }

    @org.junit.jupiter.api.Test
    void placeholdersAreCountedOutsideQuotesCommentsAndEscapes() {
        org.assertj.core.api.Assertions.assertThat(KeyListSql.placeholders(
                "SELECT '?', \"a?\" FROM t -- a comment?\n WHERE x = ? /* ? */ AND j ?? 'k' AND y = ?")).isEqualTo(2);
        org.assertj.core.api.Assertions.assertThat(KeyListSql.placeholders(
                "SELECT 'it''s ?', E'\\'?', $$a?b$$, $tag$ ? $tag$ FROM t WHERE a = $1 OR b = ?")).isEqualTo(1);
        KeyListSql k = KeyListSql.of("SELECT id FROM t WHERE tenant = ? AND id IN (:keys) AND kind = ?", Long.class,
                null, 2);
        org.assertj.core.api.Assertions.assertThat(k.maxKeys(KeyListSql.Dialect.MYSQL))
                .as("the fixed parameters count against the limit").isEqualTo(65_535 - 2);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KeyListSql.of(
                        "SELECT id FROM t WHERE tenant = ? AND id IN (:keys)", Long.class, null, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one params value per '?'");
    }

    record Pair(long tenant, String code) {
    }

    @Test
    void compositeKeysAreOneUnnestOnPostgresAndPaddedTuplesElsewhere() {
        KeyListSql pairs = KeyListSql.of("SELECT * FROM t WHERE (tenant, code) IN (:keys) AND x = ?", Pair.class,
                null, 1);
        assertThat(pairs.arity()).isEqualTo(2);
        assertThat(pairs.sql(Dialect.POSTGRES, 500)).isEqualTo(
                "SELECT * FROM t WHERE (tenant, code) IN (SELECT * FROM unnest(?, ?)) AND x = ?");
        assertThat(pairs.sql(Dialect.MYSQL, 3)).isEqualTo(
                "SELECT * FROM t WHERE (tenant, code) IN ((?, ?), (?, ?), (?, ?), (?, ?)) AND x = ?");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> pairs.checkSupported(Dialect.SQLSERVER))
                .isInstanceOf(java.sql.SQLFeatureNotSupportedException.class).hasMessageContaining("row-value IN");
        assertThat(pairs.maxKeys(Dialect.MYSQL)).as("the parameter limit shared by two columns per key")
                .isEqualTo((65_535 - 1) / 2);
        KeyListSql call = KeyListSql.of("SELECT * FROM t WHERE coalesce(a, b) IN (:keys)", Long.class, null);
        assertThat(call.arity()).as("a function's arguments are not a tuple").isEqualTo(1);
        for (String negated : new String[] {"SELECT * FROM t WHERE NOT (a, b) IN (:keys)",
                "SELECT * FROM t WHERE NOT a IN (:keys)"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> KeyListSql.of(negated, Pair.class, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NOT IN");
        }
        assertThat(KeyListSql.of("SELECT * FROM t WHERE x IS NOT NULL AND a IN (:keys)", Long.class, null).arity())
                .isEqualTo(1);
        assertThat(KeyListSql.of("SELECT * FROM t WHERE coalesce (a, b) IN (:keys)", Long.class, null).arity())
                .as("nor with a space before them").isEqualTo(1);
        assertThat(KeyListSql.of("SELECT * FROM t WHERE x = 1 AND (\"a,b\", c) IN (:keys)", java.util.List.class,
                "text, int8").arity()).as("a comma inside a quoted name").isEqualTo(2);
        assertThat(pairs.matchesNothing(java.util.List.of(new Pair(1, null), new Pair(2, null))))
                .as("a key column null in every key").isTrue();
        assertThat(pairs.matchesNothing(java.util.List.of(new Pair(1, null), new Pair(2, "x")))).isFalse();
        assertThat(KeyListSql.of("SELECT * FROM t WHERE (a, b) IN (:keys)", java.util.List.class, "int8, text")
                .arity()).isEqualTo(2);
    }
}
