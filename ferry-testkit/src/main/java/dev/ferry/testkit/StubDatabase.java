package dev.ferry.testkit;

import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * An in-memory "database" for the stub driver: it does no I/O, counts what clients do to it, and fails on
 * demand. Each instance has its own URL ({@link #url()}), so tests and benchmarks do not share state.
 *
 * <p>Faults: {@link #down} refuses connections and breaks live ones; {@link #connectFailureRate} and
 * {@link #executeFailureRate} fail that share of calls at random, the latter with a connection-fatal SQLState
 * (08006) that leaves the connection broken, as a dropped socket would.
 *
 * <p>Faults a real server cannot be made to produce on demand: {@link #connectGate} and {@link #closeGate} make
 * connects and closes hang until released (a black-holed network); {@link #noSchemaSupport} and
 * {@link #jdbc3Driver} make the connection a weak driver's ({@code SQLFeatureNotSupportedException}, or
 * {@code AbstractMethodError} for methods JDBC 3 lacked); {@link #statementCloseFails} makes a statement's close
 * throw an unchecked exception. Connections remember uncommitted work and, like Oracle's driver, commit it when
 * closed ({@link #committedOnClose}), so a test can see whether the pool rolled back first.
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
    /**
     * Statements executed. Striped: every execution on every thread counts here, and one shared counter would make
     * the stub driver, not the pool, the contended part of a pool-overhead benchmark.
     */
    public final LongAdder executions = new LongAdder();
    public final AtomicLong rollbacks = new AtomicLong();

    public final AtomicLong commits = new AtomicLong();
    /** Transactions committed by a close, as Oracle's driver does: the pool should have rolled back first. */
    public final AtomicLong committedOnClose = new AtomicLong();
    public final AtomicLong closes = new AtomicLong();
    public final AtomicLong connectAttempts = new AtomicLong();

    /** The credentials of the last connect, as the driver received them. */
    public volatile String lastUser;
    public volatile String lastPassword;

    public volatile boolean down;
    /**
     * Latency a real server has and the stub has not: each connect sleeps {@code connectDelayNanos} and each
     * statement execution {@code executeDelayNanos} (HikariCP's spike test: 150 ms connects, 2 ms queries).
     */
    public volatile long connectDelayNanos;
    public volatile long executeDelayNanos;
    /** Run at the start of every connect (a test advancing a fake clock by a simulated connect time). */
    public volatile Runnable onConnect;
    /** While non-null and not counted down, connect() blocks (interruptibly). */
    public volatile CountDownLatch connectGate;
    /** While non-null and not counted down, Connection.close() blocks. */
    public volatile CountDownLatch closeGate;
    /** Thrown (once) by the next connect: an Error, as a broken driver or class path produces. */
    public volatile Error connectError;
    /**
     * While non-null and not counted down, isValid() hangs like a black-holed socket: until the gate opens, or
     * until its timeout (seconds) or the connection's network timeout (milliseconds), whichever is shorter,
     * then answers false.
     */
    public volatile CountDownLatch validationGate;
    public volatile boolean noSchemaSupport;
    public volatile boolean jdbc3Driver;
    /** {@code Connection.abort} throws, as pgjdbc 42.7.5's (and older) does on JDK 24+ (its permission check). */
    public volatile boolean abortFails;
    public volatile boolean statementCloseFails;
    public volatile double connectFailureRate;
    public volatile double executeFailureRate;
    /** Runs at the start of every statement execution (for example, to move a test's fake clock). */
    public volatile Runnable onExecute;

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
        connectAttempts.incrementAndGet();
        Runnable hook = onConnect;
        if (hook != null) {
            hook.run();
        }
        sleep(connectDelayNanos, "connecting");
        CountDownLatch gate = connectGate;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while connecting", "08001", e);
            }
        }
        Error error = connectError;
        if (error != null) {
            connectError = null;
            throw error;
        }
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

    private static void sleep(long nanos, String doing) throws SQLException {
        if (nanos > 0) {
            try {
                Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while " + doing, "08001", e);
            }
        }
    }

    static void unsupported(String what) throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException(what + " is not supported by this stub", "0A000");
    }

    /** Runs before every statement execution; throws a fatal error when a fault is due. */
    void execute(StubConnection connection) throws SQLException {
        executions.increment();
        Runnable hook = onExecute;
        if (hook != null) {
            hook.run();
        }
        sleep(executeDelayNanos, "executing");
        boolean work = !connection.getAutoCommit();
        if (connection.workSinceCommit != work) { // a volatile write per execution would dwarf what it records
            connection.workSinceCommit = work;
        }
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
