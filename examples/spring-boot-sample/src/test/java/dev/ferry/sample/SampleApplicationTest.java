package dev.ferry.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import dev.ferry.batch.BatchedLookup;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The sample as a user runs it: the whole application on a random port, on real PostgreSQL
 * ({@code FERRY_TEST_PG_URL}), called over HTTP; Actuator's health and Prometheus endpoints show Ferry.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SampleApplicationTest {

    @Value("${local.server.port}")
    int port;

    @Autowired
    FerryDataSource dataSource;

    @Autowired
    BatchedLookup<Long, Account> accounts;

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void resetBalances() throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.createStatement().execute("UPDATE sample_accounts SET balance = 1000");
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theDataSourceIsFerryConfiguredFromProperties() throws Exception {
        FerryPool pool = dataSource.unwrap(FerryPool.class);
        assertThat(pool.poolName()).isEqualTo("sample");
        assertThat(pool.maximumPoolSize()).isEqualTo(8);
        assertThat(pool.reserve()).isEqualTo(2);
    }

    @Test
    void concurrentLookupsShareRoundTrips() throws Exception {
        long batchesBefore = accounts.stats().batches();
        long requestsBefore = accounts.stats().requests();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int id = 1; id <= 200; id++) {
            calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/accounts/" + id))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (int id = 1; id <= 200; id++) {
            HttpResponse<String> r = calls.get(id - 1).get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"owner\":\"owner-" + id + "\"", "\"balance\":1000");
        }
        long requests = accounts.stats().requests() - requestsBefore;
        long batches = accounts.stats().batches() - batchesBefore;
        assertThat(requests).isEqualTo(200);
        assertThat(batches).as("round trips for 200 concurrent lookups").isBetween(1L, 199L);
        assertThat(get("/accounts/999999").statusCode()).isEqualTo(404);
    }

    @Test
    void reportsRunInTheirLaneAndPaymentsAsCritical() throws Exception {
        HttpResponse<String> report = get("/reports/balance");
        assertThat(report.statusCode()).isEqualTo(200);
        assertThat(report.body()).contains("\"accounts\":1000", "\"balance\":1000000");
        HttpResponse<String> paid = post("/payments", "{\"account\": 7, \"amount\": 300}");
        assertThat(paid.statusCode()).as(paid.body()).isEqualTo(200);
        assertThat(get("/accounts/7").body()).contains("\"balance\":700");
        assertThat(post("/payments", "{\"account\": 7, \"amount\": 5000}").statusCode()).isEqualTo(409);
        assertThat(post("/payments", "{\"account\": 7, \"amount\": -500}").statusCode()).isEqualTo(400);
        assertThat(get("/accounts/7").body()).contains("\"balance\":700");
    }

    @Test
    void healthShowsFerrysState() throws Exception {
        get("/accounts/1");
        HttpResponse<String> health = get("/actuator/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"UP\"", "\"ferry\":{", "\"pool\":\"sample\"",
                "\"maximumPoolSize\":8", "\"db\":{");
    }

    @Test
    void prometheusShowsFerrysMeters() throws Exception {
        get("/accounts/1");
        HttpResponse<String> scrape = get("/actuator/prometheus");
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.body()).contains("ferry_connections_active{pool=\"sample\"}",
                "ferry_connections_acquire_seconds_bucket", "ferry_batch_requests_total{batcher=\"accounts\"}",
                "ferry_statements_seconds_count{pool=\"sample\"}", "jdbc_connections_active{name=\"dataSource\"}")
                .doesNotContain("hikaricp");
        assertThat(scrape.body().lines()).contains("ferry_lane_max{lane=\"reports\",pool=\"sample\"} 2.0");
    }
}
