package dev.ferry.micrometer;

import dev.ferry.FerryPool;
import dev.ferry.capacity.LaneBudget;
import dev.ferry.observe.SqlStatistics;
import dev.ferry.observe.StatementStats;
import dev.ferry.observe.PoolMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToDoubleFunction;

/**
 * One pool's meters. Tag {@code pool} on all; {@code lane} on the {@code ferry.lane.*} ones.
 *
 * <table>
 * <caption>Meters (Prometheus names in brackets)</caption>
 * <tr><td>{@code ferry.connections} gauge [ferry_connections]</td><td>physical connections open</td></tr>
 * <tr><td>{@code ferry.connections.active}, {@code .idle}, {@code .pending}</td><td>lent; idle; callers
 * waiting</td></tr>
 * <tr><td>{@code ferry.connections.max}, {@code .min}</td><td>maximumPoolSize, minimumIdle (now)</td></tr>
 * <tr><td>{@code ferry.connections.acquire} timer [ferry_connections_acquire_seconds]
 * </td><td>getConnection's time, waiting included</td></tr>
 * <tr><td>{@code ferry.connections.usage} timer</td><td>how long connections are held</td></tr>
 * <tr><td>{@code ferry.connections.creation} timer</td><td>connect time</td></tr>
 * <tr><td>{@code ferry.connections.timeout} counter</td><td>callers that timed out</td></tr>
 * <tr><td>{@code ferry.connections.rejected} counter, tag {@code reason}</td><td>refused at once:
 * {@code maxWaiting} or {@code shed}</td></tr>
 * <tr><td>{@code ferry.connections.evicted} counter, tag {@code reason}</td><td>connections retired, by reason
 * (the reason's first words: {@code broken}, {@code lifetime reached}, {@code idle timeout}, ...)</td></tr>
 * <tr><td>{@code ferry.connections.leaks}, {@code ferry.connections.reserve.used} counters</td><td>leaks
 * suspected; emergency-reserve connections opened</td></tr>
 * <tr><td>{@code ferry.lane.active}, {@code .pending}, {@code .min}, {@code .max} gauges</td><td>per lane:
 * lent, waiting (at the cap too), its minimum and cap</td></tr>
 * <tr><td>{@code ferry.lane.acquire} timer, {@code ferry.lane.timeout} counter</td><td>per lane</td></tr>
 * <tr><td>{@code ferry.statements} timer [ferry_statements_seconds]; {@code ferry.statements.errors},
 * {@code ferry.statements.slow} counters</td><td>statement execute time, failures, slow ones (sqlStatistics
 * on)</td></tr>
 * <tr><td>{@code ferry.statements.top.mean} gauges, tag {@code fingerprint}
 * [ferry_statements_top_mean_seconds]</td><td>the 5 slowest fingerprints' mean time; which five is refreshed
 * every 10 s on a daemon thread of this binding's, one per pool with SQL statistics</td></tr>
 * </table>
 *
 * <p>With OpenTelemetry names also: {@code db.client.connection.count} (tag {@code state}: {@code idle},
 * {@code used}), {@code .max}, {@code .idle.min}, {@code .pending_requests}, {@code .timeouts},
 * {@code .create_time}, {@code .wait_time}, {@code .use_time}, tag {@code db.client.connection.pool.name}.
 *
 * <p>Timers have percentile histograms ({@code _bucket} series) only with
 * {@link MicrometerMetricsTrackerFactory#withPercentileHistograms()}, except {@code ferry.connections.creation},
 * which always has one. Recording is called on borrow and return paths; the timers here are Micrometer's
 * (lock-free). Every meter registered is removed when the pool closes.
 */
final class PoolMeters implements PoolMetrics {

    private static final String OTEL_POOL = "db.client.connection.pool.name";
    private static final long TOP_REFRESH_SECONDS = 10;
    /** Fingerprints in {@code ferry.statements.top.mean}, and how much of each (label values stay readable). */
    static final int TOP = 5;
    static final int FINGERPRINT_LABEL_CHARS = 200;
    /** Registered at start (at zero), so dashboards and alerts find the series before the first one happens. */
    static final List<String> REJECTION_REASONS = List.of("maxWaiting", "shed");
    /** The pool's fixed eviction reasons, registered at start likewise ("broken (SQLState ...)" ones as they come). */
    static final List<String> EVICTION_REASONS = List.of("lifetime reached", "idle timeout",
            "failed validation before lending", "failed keepalive", "soft eviction", "pool shrunk",
            "idle above the sizing target", "evicted by the application", "pool closed");

    private final MeterRegistry registry;
    private final FerryPool pool;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final Timer acquire;
    private final Timer usage;
    private final Timer creation;
    private final Counter timeout;
    private final Counter leaks;
    private final Counter reserveUsed;
    private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
    private final Map<String, Counter> evicted = new ConcurrentHashMap<>();
    private final Map<String, Timer> laneAcquire = new ConcurrentHashMap<>();
    private final Map<String, Counter> laneTimeout = new ConcurrentHashMap<>();
    private final Timer statements;
    private final Counter statementErrors;
    private final Counter slowStatements;
    private final MultiGauge topMean;
    /** Refreshes {@link #topMean} every 10 s, off the pool's threads; null without SQL statistics. */
    private final java.util.concurrent.ScheduledExecutorService topRefresher;
    /** Orders refreshTop's registration against close's removal (the binding's lock: no pool code runs under it). */
    private final ReentrantLock topLock = new ReentrantLock();
    private volatile boolean closed;
    private final Timer otelWait;
    private final Timer otelUse;
    private final Timer otelCreate;
    private final Counter otelTimeouts;

    PoolMeters(MeterRegistry registry, FerryPool pool, boolean openTelemetryNames, boolean histograms) {
        this.registry = registry;
        this.pool = pool;
        Tags tags = Tags.of("pool", pool.poolName());
        gauge("ferry.connections", "Physical connections open", tags, p -> p.totalConnections());
        gauge("ferry.connections.active", "Connections lent", tags, p -> p.activeConnections());
        gauge("ferry.connections.idle", "Idle connections", tags, p -> p.idleConnections());
        gauge("ferry.connections.pending", "Callers waiting for a connection", tags, p -> p.waitingThreads());
        gauge("ferry.connections.max", "maximumPoolSize", tags, p -> p.maximumPoolSize());
        gauge("ferry.connections.min", "minimumIdle", tags, p -> p.minimumIdle());
        acquire = add(Timer.builder("ferry.connections.acquire").description("Time to get a connection, waiting "
                + "included").tags(tags).publishPercentileHistogram(histograms).minimumExpectedValue(Duration.ofNanos(1_000))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry));
        usage = add(Timer.builder("ferry.connections.usage").description("Time connections are held").tags(tags)
                .publishPercentileHistogram(histograms).minimumExpectedValue(Duration.ofNanos(1_000))
                .maximumExpectedValue(Duration.ofMinutes(10)).register(registry));
        creation = add(Timer.builder("ferry.connections.creation").description("Connect time").tags(tags)
                .publishPercentileHistogram().register(registry));
        timeout = add(Counter.builder("ferry.connections.timeout").description("Callers that timed out waiting "
                + "for a connection").tags(tags).register(registry));
        leaks = add(Counter.builder("ferry.connections.leaks").description("Connections out longer than "
                + "leakDetectionThreshold").tags(tags).register(registry));
        reserveUsed = add(Counter.builder("ferry.connections.reserve.used").description("Emergency-reserve "
                + "connections opened for CRITICAL callers").tags(tags).register(registry));
        statements = add(Timer.builder("ferry.statements").description("Statement execute time (sqlStatistics on)")
                .tags(tags).publishPercentileHistogram(histograms).minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(Duration.ofMinutes(10)).register(registry));
        statementErrors = add(Counter.builder("ferry.statements.errors").description("Statements that failed")
                .tags(tags).register(registry));
        slowStatements = add(Counter.builder("ferry.statements.slow").description("Statements slower than "
                + "slowStatementThreshold").tags(tags).register(registry));
        topMean = MultiGauge.builder("ferry.statements.top.mean").description("Mean time of the " + TOP
                + " slowest statement fingerprints").baseUnit("seconds").tags(tags).register(registry);
        topRefresher = pool.sqlStatistics().isEmpty() ? null
                : java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, pool.poolName() + "-top-statements");
                    t.setDaemon(true);
                    return t;
                });
        if (topRefresher != null) {
            topRefresher.scheduleWithFixedDelay(this::refreshTopQuietly, 1, TOP_REFRESH_SECONDS, TimeUnit.SECONDS);
        }
        REJECTION_REASONS.forEach(this::rejectedCounter);
        EVICTION_REASONS.forEach(this::evictedCounter);
        for (LaneBudget.LaneState lane : pool.lanes()) {
            String name = lane.lane().name();
            Tags laneTags = tags.and("lane", name);
            gauge("ferry.lane.active", "Connections lent to the lane's callers", laneTags, p -> lane(p, name, 0));
            gauge("ferry.lane.pending", "The lane's callers waiting (for a connection or at its cap)", laneTags,
                    p -> lane(p, name, 1));
            gauge("ferry.lane.min", "The lane's minimum", laneTags, p -> lane(p, name, 2));
            gauge("ferry.lane.max", "The lane's cap", laneTags, p -> lane(p, name, 3));
            laneAcquire.put(name, add(Timer.builder("ferry.lane.acquire").description("Time to get a connection in "
                    + "the lane, waiting included").tags(laneTags).publishPercentileHistogram(histograms)
                    .minimumExpectedValue(Duration.ofNanos(1_000)).maximumExpectedValue(Duration.ofSeconds(60))
                    .register(registry)));
            laneTimeout.put(name, add(Counter.builder("ferry.lane.timeout").description("The lane's callers that "
                    + "timed out").tags(laneTags).register(registry)));
        }
        if (openTelemetryNames) {
            Tags otel = Tags.of(OTEL_POOL, pool.poolName());
            gauge("db.client.connection.count", "Connections by state", otel.and("state", "idle"),
                    p -> p.idleConnections());
            gauge("db.client.connection.count", "Connections by state", otel.and("state", "used"),
                    p -> p.activeConnections());
            gauge("db.client.connection.max", "Most connections allowed", otel, p -> p.maximumPoolSize());
            gauge("db.client.connection.idle.min", "Fewest idle connections kept", otel, p -> p.minimumIdle());
            gauge("db.client.connection.pending_requests", "Callers waiting", otel, p -> p.waitingThreads());
            otelWait = add(Timer.builder("db.client.connection.wait_time").tags(otel).register(registry));
            otelUse = add(Timer.builder("db.client.connection.use_time").tags(otel).register(registry));
            otelCreate = add(Timer.builder("db.client.connection.create_time").tags(otel).register(registry));
            otelTimeouts = add(Counter.builder("db.client.connection.timeouts").tags(otel).register(registry));
        } else {
            otelWait = null;
            otelUse = null;
            otelCreate = null;
            otelTimeouts = null;
        }
    }

    /** A lane's figure by index (0 lent, 1 waiting, 2 minimum, 3 cap); NaN once the lane is gone. */
    private static double lane(FerryPool pool, String name, int which) {
        for (LaneBudget.LaneState s : pool.lanes()) {
            if (s.lane().name().equals(name)) {
                switch (which) {
                    case 0: return s.lent();
                    case 1: return s.waiting() + s.waitingAtCap();
                    case 2: return s.lane().minimum();
                    default: return s.lane().cap();
                }
            }
        }
        return Double.NaN;
    }

    private void gauge(String name, String description, Tags tags, ToDoubleFunction<FerryPool> value) {
        add(Gauge.builder(name, pool, value).description(description).tags(tags).strongReference(true)
                .register(registry));
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    @Override
    public void acquired(String lane, long nanos) {
        acquire.record(nanos, TimeUnit.NANOSECONDS);
        if (lane != null) {
            Timer t = laneAcquire.get(lane);
            if (t != null) {
                t.record(nanos, TimeUnit.NANOSECONDS);
            }
        }
        if (otelWait != null) {
            otelWait.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void released(String lane, long nanos) {
        usage.record(nanos, TimeUnit.NANOSECONDS);
        if (otelUse != null) {
            otelUse.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void created(long nanos) {
        creation.record(nanos, TimeUnit.NANOSECONDS);
        if (otelCreate != null) {
            otelCreate.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void timedOut(String lane) {
        timeout.increment();
        if (lane != null) {
            Counter c = laneTimeout.get(lane);
            if (c != null) {
                c.increment();
            }
        }
        if (otelTimeouts != null) {
            otelTimeouts.increment();
        }
    }

    private Counter rejectedCounter(String reason) {
        return rejected.computeIfAbsent(reason, r -> add(Counter.builder("ferry.connections.rejected")
                .description("Callers refused at once").tags(Tags.of("pool", pool.poolName(), "reason", r))
                .register(registry)));
    }

    private Counter evictedCounter(String reason) {
        return evicted.computeIfAbsent(reasonTag(reason), r -> add(Counter.builder("ferry.connections.evicted")
                .description("Connections retired, by reason").tags(Tags.of("pool", pool.poolName(), "reason", r))
                .register(registry)));
    }

    @Override
    public void rejected(String reason) {
        if (!closed) { // after close, a new counter would never be removed
            rejectedCounter(reason).increment();
        }
    }

    @Override
    public void evicted(String reason) {
        if (!closed) {
            evictedCounter(reason).increment();
        }
    }

    /** A bounded tag: the reason up to its colon ("broken (SQLState 08006): <the driver's message>" becomes "broken (SQLState 08006)"). */
    static String reasonTag(String reason) {
        int colon = reason.indexOf(':');
        return colon < 0 ? reason : reason.substring(0, colon);
    }

    @Override
    public void statement(long nanos, boolean failed) {
        statements.record(nanos, TimeUnit.NANOSECONDS);
        if (failed) {
            statementErrors.increment();
        }
    }

    private void refreshTopQuietly() {
        try {
            refreshTop();
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(PoolMeters.class).debug("refreshing the top statements failed", e);
        }
    }

    /**
     * Re-labels the top-N gauge with the slowest fingerprints now; each row reads its own statement's live mean.
     * Runs on this binding's own thread (registering meters takes the registry's lock: not on a pool thread).
     */
    void refreshTop() {
        SqlStatistics stats = pool.sqlStatistics().orElse(null);
        if (stats == null || closed) {
            return;
        }
        List<MultiGauge.Row<?>> rows = new java.util.ArrayList<>();
        for (StatementStats s : stats.topSlowest(TOP)) {
            stats.find(s.fingerprint()).ifPresent(statement -> rows.add(MultiGauge.Row.of(
                    Tags.of("fingerprint", label(s.fingerprint())), statement,
                    st -> st.stats().mean().toNanos() / 1e9)));
        }
        topLock.lock();
        try {
            if (!closed) {
                topMean.register(rows, true);
            }
        } finally {
            topLock.unlock();
        }
    }

    /** A fingerprint as a label value: up to 200 characters, a long one ended with a hash of the whole. */
    static String label(String fingerprint) {
        return fingerprint.length() <= FINGERPRINT_LABEL_CHARS ? fingerprint
                : fingerprint.substring(0, FINGERPRINT_LABEL_CHARS) + "... #"
                        + Integer.toHexString(fingerprint.hashCode());
    }

    @Override
    public void slowStatement() {
        slowStatements.increment();
    }

    @Override
    public void leakSuspected() {
        leaks.increment();
    }

    @Override
    public void reserveUsed() {
        reserveUsed.increment();
    }

    @Override
    public void close() {
        closed = true;
        if (topRefresher != null) {
            topRefresher.shutdownNow();
        }
        topLock.lock();
        try {
            topMean.register(List.of(), true);
        } finally {
            topLock.unlock();
        }
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }
}
