package dev.ferry.testkit;

import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory "database" for the stub driver: it does no I/O, counts what clients do to it, and fails on
 * demand. Each instance has its own URL ({@link #url()}), so tests and benchmarks do not share state.
 *
 * <p>Faults: {@link #down} refuses connections and breaks live ones; {@link #connectFailureRate} and
 * {@link #executeFailureRate} fail that share of calls at random, the latter with a connection-fatal SQLState
 * (08006) that leaves the connection broken, as a dropped socket would.
 */
public final class StubDatabase {

    private static final Map<String, StubDatabase> BY_URL = new ConcurrentHashMap<>();
    private static final AtomicInteger IDS = new AtomicInteger();

    private final String url;
    /** Physical connections open now. */
    public final AtomicInteger open = new AtomicInteger();
    /** The most ever open at once. */
    public final AtomicInteger peakOpen = new AtomicInteger();
    /** Connections ever opened. */
    public final AtomicLong opened = new AtomicLong();
    public final AtomicLong executions = new AtomicLong();
    public final AtomicLong rollbacks = new AtomicLong();

    public volatile boolean down;
    public volatile double connectFailureRate;
    public volatile double executeFailureRate;

    private StubDatabase(String url) {
        this.url = url;
    }

    /** A fresh database with its own URL. */
    public static StubDatabase create() {
        String url = "jdbc:stub:db" + IDS.incrementAndGet();
        StubDatabase db = new StubDatabase(url);
        BY_URL.put(url, db);
        return db;
    }

    static StubDatabase forUrl(String url) {
        return BY_URL.computeIfAbsent(url, StubDatabase::new);
    }

    public String url() {
        return url;
    }

    StubConnection connect() throws SQLException {
        if (down) {
            throw new SQLException("stub database is down", "08001");
        }
        if (connectFailureRate > 0 && ThreadLocalRandom.current().nextDouble() < connectFailureRate) {
            throw new SQLException("injected connect failure", "08001");
        }
        int now = open.incrementAndGet();
        peakOpen.accumulateAndGet(now, Math::max);
        opened.incrementAndGet();
        return new StubConnection(this);
    }

    /** Runs before every statement execution; throws a fatal error when a fault is due. */
    void execute(StubConnection connection) throws SQLException {
        executions.incrementAndGet();
        if (down || connection.broken) {
            connection.broken = true;
            throw new SQLException("stub connection lost", "08006");
        }
        if (executeFailureRate > 0 && ThreadLocalRandom.current().nextDouble() < executeFailureRate) {
            connection.broken = true;
            throw new SQLException("injected connection failure", "08006");
        }
    }
}
