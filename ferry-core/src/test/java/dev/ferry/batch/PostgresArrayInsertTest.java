package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which one-row inserts become one unnest statement per batch, and what that statement is. */
class PostgresArrayInsertTest {

    private static final String[] TWO = {"int8", "text"};
    private static final String[] NO_CASTS = new String[3];

    @Test
    void aPlainInsertBecomesOneSelectFromUnnest() throws Exception {
        PostgresArrayInsert insert = PostgresArrayInsert.of("INSERT INTO events (id, kind) VALUES (?, ?)");
        assertThat(insert.sql(TWO, NO_CASTS, false)).isEqualTo("INSERT INTO events (id, kind) SELECT ferry_u.p1, "
                + "ferry_u.p2 FROM unnest(?::int8[], ?::text[]) AS ferry_u(p1, p2)");
        assertThat(insert.sql(TWO, new String[] {null, "timestamp with time zone"}, false)).as("a cast").contains(
                "SELECT ferry_u.p1, (ferry_u.p2::timestamp with time zone) FROM");
        assertThat(insert.table()).isEqualTo("events");
        assertThat(insert.columnOf(0)).isEqualTo("id");
        assertThat(insert.sql(TWO, NO_CASTS, true)).as("ordered for generated keys").endsWith(
                "FROM unnest(?::int8[], ?::text[]) WITH ORDINALITY AS ferry_u(p1, p2, ferry_ord) "
                        + "ORDER BY ferry_u.ferry_ord");
    }

    @Test
    void expressionsLiteralsQuotesAndTheConflictClauseAreKept() throws Exception {
        PostgresArrayInsert insert = PostgresArrayInsert.of("insert into public.\"My (Table)\" AS m (id, \"Kind\", "
                + "note, at, doc) values (? -- the id\n, lower(?), 'a ?, (b) -- no comment', now(), ?::jsonb) -- why?\n"
                + "ON CONFLICT (id) DO UPDATE SET \"Kind\" = EXCLUDED.\"Kind\";");
        assertThat(insert.params()).isEqualTo(3);
        assertThat(insert.sql(new String[] {"int8", "varchar", "varchar"}, NO_CASTS, false)).isEqualTo(
                "insert into public.\"My (Table)\" AS m (id, \"Kind\", note, at, doc) SELECT ferry_u.p1, "
                        + "lower(ferry_u.p2), 'a ?, (b) -- no comment', now(), ferry_u.p3::jsonb FROM "
                        + "unnest(?::int8[], ?::varchar[], ?::varchar[]) AS ferry_u(p1, p2, p3) "
                        + "ON CONFLICT (id) DO UPDATE SET \"Kind\" = EXCLUDED.\"Kind\"");
        assertThat(insert.table()).as("the alias is not part of the name").isEqualTo("public.\"My (Table)\"");
        assertThat(insert.columnOf(0)).isEqualTo("id");
        assertThat(insert.columnOf(1)).as("inside an expression").isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "UPDATE t SET a = ? WHERE id = ?|not INSERT INTO",
            "INSERT INTO t VALUES (?, ?)|not INSERT INTO",
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)|more than one row",
            "INSERT INTO t (a, b) VALUES (?, DEFAULT)|DEFAULT",
            "INSERT INTO t (a, b) VALUES (?, ?) RETURNING a|RETURNING",
            "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = ?|after the VALUES",
            "INSERT INTO t (a, b) VALUES (1, 'x')|nothing differs",
            "INSERT INTO t (a, b) VALUES (?, ?, ?)|2 columns but 3 values",
            "INSERT INTO t (a, b) VALUES (lower(?), ?) ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b|bare '?'",
            "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT ON CONSTRAINT t_pkey DO UPDATE SET b = 1|only ON CONFLICT",
            "INSERT INTO t (a, b) SELECT ?, ?|not INSERT INTO",
            "INSERT INTO t (a, b) VALUES (?, (SELECT max(b) + 1 FROM t))|sub-select",
            "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = 1; DELETE FROM t|more than one",
            "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = (SELECT max(b) FROM t) + 1|sub-select",
    })
    void statementsWhoseMeaningWouldChangeAreLeftToJdbcBatches(String sql, String why) {
        assertThatThrownBy(() -> PostgresArrayInsert.of(sql)).isInstanceOf(PostgresArrayInsert.NotApplicable.class)
                .hasMessageContaining(why);
    }

    @Test
    void typeNamesWithTheWordWithAreNotSubSelects() throws Exception {
        PostgresArrayInsert insert = PostgresArrayInsert.of("INSERT INTO t (a, b) VALUES (?, CAST(? AS timestamp with "
                + "time zone)) ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b::time with time zone");
        assertThat(insert.params()).isEqualTo(2);
        assertThat(PostgresArrayInsert.of("INSERT INTO t (\"Ärger\", Übel) VALUES (?, ?)").columnOf(1))
                .as("unquoted names fold A to Z only, as PostgreSQL folds them").isEqualTo("Übel");
    }

    @Test
    void twoUpsertsOfOneKeyGoInSuccessiveStatementsInTheirOrder() throws Exception {
        PostgresArrayInsert upsert = PostgresArrayInsert.of("INSERT INTO t (tenant, \"Id\", v) VALUES (?, ?, ?) "
                + "ON CONFLICT (\"Id\", tenant) DO UPDATE SET v = EXCLUDED.v");
        List<Object[]> rows = new ArrayList<>();
        rows.add(new Object[] {1L, 7L, "a"});
        rows.add(new Object[] {2L, 7L, "b"}); // another tenant: another key
        rows.add(new Object[] {1L, 7L, "c"}); // the first key again
        rows.add(new Object[] {1L, 8L, "d"});
        rows.add(new Object[] {1, 7L, "e"}); // and a third time (an Integer 1 is the same key as SQL sees it)
        assertThat(upsert.rounds(rows)).containsExactly(new int[] {0, 1, 3}, new int[] {2}, new int[] {4});
        PostgresArrayInsert insert = PostgresArrayInsert.of("INSERT INTO t (tenant, id, v) VALUES (?, ?, ?)");
        assertThat(insert.rounds(rows)).as("a plain insert: one statement; a duplicate fails as it would alone")
                .containsExactly(new int[] {0, 1, 2, 3, 4});
    }

    @Test
    void maskKeepsPositionsAndHidesQuotedText() {
        String sql = "SELECT 'a?(', \"b,)\", $x$?$x$ -- c?\n, ?? , ? /* ? */";
        String masked = SqlText.mask(sql);
        assertThat(masked).hasSameSizeAs(sql);
        assertThat(SqlText.placeholdersOfMasked(masked)).isEqualTo(1);
        assertThat(masked.indexOf('(')).isEqualTo(-1);
        assertThat(masked.indexOf(',')).isEqualTo(sql.indexOf(','));
    }
}
