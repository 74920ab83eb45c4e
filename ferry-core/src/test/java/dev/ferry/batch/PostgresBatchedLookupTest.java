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
    void usesOneAnyArrayStatement() throws Exception {
        try (BatchedLookup<Long, User> users = users()) {
            users.get(1L);
            users.get(2L);
            assertThat(counting.sqlTexts).containsExactly("SELECT id, name FROM ferry_lookup_users WHERE id = ANY(?)");
        }
    }
}
