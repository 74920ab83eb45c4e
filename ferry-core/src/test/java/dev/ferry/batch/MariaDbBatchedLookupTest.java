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
}
