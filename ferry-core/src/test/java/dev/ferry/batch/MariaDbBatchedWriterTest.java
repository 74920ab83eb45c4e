package dev.ferry.batch;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.FerryConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** Batched writes on MariaDB where a server runs (skipped otherwise). */
class MariaDbBatchedWriterTest extends BatchedWriterContract {

    @Override
    FerryConfig.Builder database() {
        try (Connection c = DriverManager.getConnection(MariaDbBatchedLookupTest.URL)) {
            c.isValid(1);
        } catch (SQLException e) {
            assumeTrue(false, "MariaDB not reachable: " + e.getMessage());
        }
        return FerryConfig.builder().jdbcUrl(MariaDbBatchedLookupTest.URL).poolName("mariadb-writer");
    }

    @Override
    String identityColumn() {
        return "BIGINT AUTO_INCREMENT PRIMARY KEY";
    }
}
