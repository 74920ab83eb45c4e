package dev.ferry.batch;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.FerryConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** Batched lookups on MariaDB where a server runs (skipped otherwise). */
class MariaDbBatchedLookupTest extends BatchedLookupContract {

    static final String URL = System.getenv().getOrDefault("FERRY_TEST_MARIADB_URL",
            "jdbc:mariadb://127.0.0.1:3306/test?user=root");

    @Override
    FerryConfig.Builder database() {
        try (Connection c = DriverManager.getConnection(URL)) {
            c.isValid(1);
        } catch (SQLException e) {
            assumeTrue(false, "MariaDB not reachable at " + URL + ": " + e.getMessage());
        }
        return FerryConfig.builder().jdbcUrl(URL).poolName("mariadb-lookup");
    }

    @org.junit.jupiter.api.Test
    void underACaseInsensitiveCollationAKeyNormalizerMatchesRowsTheDatabaseMatched() throws Exception {
        try (dev.ferry.FerryDataSource ds = new dev.ferry.FerryDataSource(database().maximumPoolSize(2).build())) {
            try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS ferry_ci_users");
                s.execute("CREATE TABLE ferry_ci_users (name VARCHAR(20) PRIMARY KEY, age INT) "
                        + "COLLATE utf8mb4_general_ci");
                s.execute("INSERT INTO ferry_ci_users VALUES ('bob', 42)");
            }
            try (BatchedLookup<String, Integer> plain = ds.<String, Integer>batchedLookup(String.class)
                    .sql("SELECT name, age FROM ferry_ci_users WHERE name IN (:keys)")
                    .key(rs -> rs.getString(1)).row(rs -> rs.getInt(2)).build();
                 BatchedLookup<String, Integer> normalized = ds.<String, Integer>batchedLookup(String.class)
                    .sql("SELECT name, age FROM ferry_ci_users WHERE name IN (:keys)")
                    .key(rs -> rs.getString(1)).row(rs -> rs.getInt(2))
                    .keyNormalizer(k -> k.toLowerCase(java.util.Locale.ROOT)).build()) {
                org.assertj.core.api.Assertions.assertThat(plain.get("Bob"))
                        .as("the database matched 'bob', Java equals does not: documented").isEmpty();
                org.assertj.core.api.Assertions.assertThat(normalized.get("Bob")).contains(42);
                org.assertj.core.api.Assertions.assertThat(normalized.get("BOB")).contains(42);
            }
        }
    }
}
