package dev.ferry.cli;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * A named load shape with defaults; {@link LoadCommand} lets every parameter be overridden.
 *
 * @param shape    how requests arrive
 * @param op       what each request does
 * @param clients  concurrent clients (BURST, CLOSED)
 * @param requests requests per client (BURST)
 * @param rates    arrivals per second, one per step (OPEN: one step)
 * @param step     how long each rate lasts (OPEN), or the run's length (CLOSED)
 * @param hold     how long a request keeps its connection beyond the query (exhaustion)
 * @param poolSize default pool size for this scenario
 * @param batching whether Ferry batches by default
 * @param mix      percent of requests at CRITICAL, NORMAL and BULK priority (Ferry borrows at that priority;
 *                 other pools have none, so the same mix only labels their requests)
 * @param reserve  Ferry's emergency reserve for CRITICAL requests (connections beyond poolSize)
 * @param sizing   Ferry's sizing policy ({@link ScenarioSizing}): none, reactive, scheduled or forecast
 * @param minimumIdle every pool's minimumIdle, or -1 for each pool's default (Ferry's is 1 with a sizing policy)
 * @param forecastHistory the forecast policy's history file (null: {@code ferry-forecast-<name>.txt})
 */
record Scenario(String name, Shape shape, Op op, int clients, int requests, List<Integer> rates, Duration step,
                Duration hold, int poolSize, boolean batching, List<Integer> mix, int reserve, String sizing,
                int minimumIdle, java.nio.file.Path forecastHistory) {

    static final List<Integer> ALL_NORMAL = List.of(0, 100, 0);

    enum Shape {
        /** {@code clients} callers start at once, each sends {@code requests} requests. */
        BURST,
        /** Open loop: arrivals at a fixed rate per step, whether or not earlier requests finished. */
        OPEN,
        /** Closed loop: {@code clients} callers each send a request, wait for it, and repeat for {@code step}. */
        CLOSED
    }

    enum Op {
        /** SELECT one account by a random id. */
        READ,
        /** INSERT one event row. */
        WRITE
    }

    static final List<String> NAMES = List.of("spike", "sustained", "ramp", "peak-day", "exhaustion", "lookup",
            "ingest");

    /** The scenario's defaults, or an exception naming the allowed scenarios. */
    static Scenario named(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "spike":
                return new Scenario("spike", Shape.BURST, Op.READ, 10_000, 1, List.of(), Duration.ZERO,
                        Duration.ZERO, 10, false, ALL_NORMAL, 0, "none", -1, null);
            case "sustained":
                return new Scenario("sustained", Shape.OPEN, Op.READ, 0, 0, List.of(100), Duration.ofSeconds(30),
                        Duration.ZERO, 10, false, ALL_NORMAL, 0, "none", -1, null);
            case "ramp":
                return new Scenario("ramp", Shape.OPEN, Op.READ, 0, 0, List.of(100, 500, 1000, 2000, 3000),
                        Duration.ofSeconds(5), Duration.ZERO, 10, false, ALL_NORMAL, 0, "none", -1, null);
            case "peak-day":
                // A compressed day: night, morning, lunch peak, afternoon, evening peak, late evening.
                return new Scenario("peak-day", Shape.OPEN, Op.READ, 0, 0, List.of(20, 200, 800, 400, 1200, 150),
                        Duration.ofSeconds(5), Duration.ZERO, 10, false, ALL_NORMAL, 0, "none", -1, null);
            case "exhaustion":
                return new Scenario("exhaustion", Shape.BURST, Op.READ, 400, 1, List.of(), Duration.ZERO,
                        Duration.ofMillis(20), 4, false, List.of(5, 80, 15), 0, "none", -1, null);
            case "lookup":
                return new Scenario("lookup", Shape.CLOSED, Op.READ, 1_000, 0, List.of(), Duration.ofSeconds(10),
                        Duration.ZERO, 10, true, ALL_NORMAL, 0, "none", -1, null);
            case "ingest":
                return new Scenario("ingest", Shape.CLOSED, Op.WRITE, 1_000, 0, List.of(), Duration.ofSeconds(10),
                        Duration.ZERO, 10, true, ALL_NORMAL, 0, "none", -1, null);
            default:
                throw new IllegalArgumentException("--scenario: unknown scenario '" + name + "'; allowed: "
                        + String.join(", ", NAMES));
        }
    }

    /** Requests the run will send, for the progress bar (open loop: by rate; closed loop: unknown, -1). */
    long expectedRequests() {
        switch (shape) {
            case BURST:
                return (long) clients * requests;
            case OPEN:
                return rates.stream().mapToLong(r -> r * step.toMillis() / 1000).sum();
            default:
                return -1;
        }
    }

    Duration expectedDuration() {
        return shape == Shape.OPEN ? step.multipliedBy(rates.size()) : step;
    }
}
