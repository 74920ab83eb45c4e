package dev.ferry.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A connection the pool holds for its own work (a keepalive check, the server share's query) is reserved, not
 * idle, for that moment: minimumIdle must not open a connection for it, while a caller that waits still gets one.
 */
class PoolOwnChecksTest {

    private final StubDatabase db = StubDatabase.create();
    private FerryDataSource ds;

    @AfterEach
    void close() {
        if (ds != null) {
            ds.close();
        }
    }

    private ConnectionPool pool(int minimumIdle) throws java.sql.SQLException {
        ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(db.url()).driverClassName("dev.ferry.testkit.StubDriver")
                .poolName("own-checks").maximumPoolSize(4).minimumIdle(minimumIdle)
                .connectionTimeout(Duration.ofSeconds(5)).build());
        ConnectionPool pool = ds.unwrap(ConnectionPool.class);
        await().until(() -> pool.idleConnections() == 1);
        return pool;
    }

    @Test
    void minimumIdleDoesNotOpenAConnectionWhileThePoolUsesItsOnlyIdleOne() throws Exception {
        ConnectionPool pool = pool(1);
        pool.withIdleConnection(c -> {
            pool.requestConnections(); // as housekeeping or the sizing period would, while the connection is held
            return null;
        });
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> pool.totalConnections() == 1);
        assertThat(pool.idleConnections()).isEqualTo(1);
    }

    @Test
    void aCallerWaitingWhileThePoolUsesItsOnlyConnectionGetsANewOne() throws Exception {
        ConnectionPool pool = pool(1); // minimumIdle is met by the held connection: the caller alone asks for one
        Connection got = pool.withIdleConnection(c -> {
            CompletableFuture<Connection> borrow = CompletableFuture.supplyAsync(() -> {
                try {
                    return ds.getConnection();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                return borrow.get(5, TimeUnit.SECONDS); // served while the pool still holds its own connection
            } catch (Exception e) {
                throw new java.sql.SQLException(e);
            }
        });
        assertThat(got).isNotNull();
        assertThat(pool.totalConnections()).isEqualTo(2);
        got.close();
    }
}
