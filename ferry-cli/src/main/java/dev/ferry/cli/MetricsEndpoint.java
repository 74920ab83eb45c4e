package dev.ferry.cli;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code ferry load --metrics-port}: a Prometheus registry every pool of the run reports to (Ferry's through
 * ferry-micrometer, HikariCP's through its own Micrometer tracker), served as {@code /metrics} over HTTP on a
 * loopback address by default. One per run; pools started while it is open report to it.
 */
final class MetricsEndpoint implements AutoCloseable {

    private static volatile PrometheusMeterRegistry current;

    private final PrometheusMeterRegistry registry;
    private final HttpServer server;

    private MetricsEndpoint(PrometheusMeterRegistry registry, HttpServer server) {
        this.registry = registry;
        this.server = server;
    }

    /** The registry of the endpoint open now, or null. */
    static PrometheusMeterRegistry registry() {
        return current;
    }

    static MetricsEndpoint start(String host, int port) throws IOException {
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("--metrics-port: got " + port + "; allowed: 1 to 65535");
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new IOException("--metrics-port: could not listen on " + host + ":" + port + ": " + e.getMessage(),
                    e);
        }
        server.createContext("/metrics", exchange -> {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.setExecutor(null); // the server's own thread: scrapes are rare and quick
        server.start();
        current = registry;
        return new MetricsEndpoint(registry, server);
    }

    /** Where it listens, for the run's first line. */
    String address() {
        InetSocketAddress a = server.getAddress();
        return "http://" + a.getHostString() + ":" + a.getPort() + "/metrics";
    }

    @Override
    public void close() {
        current = null;
        server.stop(0);
        registry.close();
    }
}
