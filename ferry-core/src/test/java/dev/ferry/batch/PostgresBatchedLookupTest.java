package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryConfig;
import dev.ferry.Postgres;
import org.junit.jupiter.api.Test;

/** Batched lookups on PostgreSQL: one {@code = ANY(?)} statement text for every batch size. */
class PostgresBatchedLookupTest extends BatchedLookupContract {

    @Override
    FerryConfig.Builder database() {
        return Postgres.config(Postgres.uniqueApplicationName("lookup"));
    }

    @Test
    void aBatchOnAStuckQueryFailsWithinTheRequestTimeout() {
        try (BatchedLookup<Long, User> slow = BatchedLookup.<Long, User>builder(counting.dataSource, Long.class)
                .sql("SELECT id, name FROM ferry_lookup_users WHERE id IN (:keys) AND pg_sleep(5) IS NOT NULL")
                .key(rs -> rs.getLong("id"))
                .row(rs -> new User(rs.getLong("id"), rs.getString("name")))
                .timeout(java.time.Duration.ofSeconds(1))
                .build()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> slow.get(1L))
                    .isInstanceOf(java.sql.SQLException.class)
                    .satisfies(e -> assertThat(((java.sql.SQLException) e).getSQLState()).isEqualTo("57014"));
        }
    }

    @Test
    void usesOneAnyArrayStatement() throws Exception {
        try (BatchedLookup<Long, User> users = users()) {
            users.get(1L);
            users.get(2L);
            assertThat(counting.sqlTexts).containsExactly("SELECT id, name FROM ferry_lookup_users WHERE id = ANY(?)");
        }
    }
}
