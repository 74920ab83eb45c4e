package dev.ferry.pool;

import dev.ferry.FerryConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code getConnection(username, password)}: a pool per user and password, at most
 * {@link FerryConfig#perUserPoolSize()} connections each, all within the main pool's budget ({@link SharedBudget}).
 * Not part of the public API.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Who gets what.</b> A user's pool is found by the user name and a SHA-256 digest of the password, so a
 * caller gets a connection logged in with the password it gave, never one opened with another caller's: a wrong
 * password finds no pool, makes one, and that pool's login fails. The username and password the main pool logs
 * in with now (set, not from a credentials provider or the data source properties) are served by the main pool.
 * A pool's first connection is checked to be logged in as its user ({@code DatabaseMetaData.getUserName()}; a
 * driver that answers null is not checked), so credentials a driver takes from elsewhere (a URL form the build
 * did not recognise, a DataSource's own) fail the call rather than lend another user's session. The pools are
 * shown to the public API only as counts ({@link dev.ferry.UserPool}), so holding the data source gives no way to
 * borrow a user's connection without the password. A pool whose password stops being used (rotated) holds
 * nothing once its idle connections retire (minimumIdle is 0: after idleTimeout, else maxLifetime; with both 0
 * they stay) and is closed when its place is needed.
 *
 * <p><b>A new pool</b> opens its first connection on demand, on a connector thread, as any pool; its first
 * borrowers wait in slices of {@link #FIRST_LOGIN_SLICE} and look at the connector's last error between them, so
 * a refused login (SQLState class 28, or on PostgreSQL 08004: rejected, as when a password is required and none
 * was given) fails them at once with the server's error rather than after
 * connectionTimeout, and that pool is closed. Other errors (the server down) are waited out as in any pool. A
 * slice that fails sooner than it could time out (the pool closed, the caller interrupted) is passed on, not
 * retried.
 *
 * <p><b>Bounded.</b> At most {@link FerryConfig#maxUserPools()} pools serve at once (a displaced one may still be
 * closing, on a thread of its own). A new user beyond that takes
 * the place of the pool used longest ago that has nothing lent, nobody waiting and no borrow under way (all
 * decided under {@link #lock}, where borrows are counted), and that pool is closed in the background; with none
 * such the call fails at once (53300).
 *
 * <p><b>Locking.</b> {@link #lock} guards the map and the counts only: pools are built, borrowed from and closed
 * outside it, so no connect, close or user code (listeners, interceptors, the ticker) runs under it. A pool being
 * built is in the map as a future its other borrowers wait on within their timeout.
 */
public final class UserPools implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UserPools.class);
    /** How long a new pool's first borrowers wait before looking at its last login error again. */
    static final long FIRST_LOGIN_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final Duration FIRST_LOGIN_SLICE = Duration.ofNanos(FIRST_LOGIN_SLICE_NANOS);

    private final ConnectionPool main;
    private final FerryConfig base;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Key, Member> members = new HashMap<>();
    /** Whether the server is PostgreSQL (where 08004 at login is a refusal: {@link #refusesLogin}). */
    private final boolean postgres;
    private int numbered;
    private boolean closed;

    /** @param main the data source's main pool, started with perUserPoolSize above 0 */
    public UserPools(ConnectionPool main) {
        if (main.sharedBudget() == null) {
            throw new IllegalArgumentException("perUserPoolSize: got 0; allowed: above 0 for per-user pools");
        }
        this.main = main;
        this.base = main.config();
        this.postgres = base.jdbcUrl() != null ? base.jdbcUrl().startsWith("jdbc:postgresql:")
                : base.dataSource() != null && base.dataSource().getClass().getName().startsWith("org.postgresql.");
    }

    private record Key(String user, String passwordDigest) {
    }

    /** One user's pool: built once, counted while borrowed from, closed when its place is needed. */
    private static final class Member {
        final Key key;
        final String user;
        final CompletableFuture<ConnectionPool> pool = new CompletableFuture<>();
        /** Borrows under way (guarded by {@link #lock}): a member with any is never closed for another. */
        int borrowing;
        /** When it was last asked for, by the main pool's ticker (guarded by {@link #lock}). */
        long lastUsed;
        /** Why its pool was closed at its first login (refused, or another user's), for its other callers. */
        volatile SQLException loginFailure;
        /** A connection of its pool was seen logged in as its user ({@link #checkedUser}). */
        volatile boolean userChecked;

        Member(Key key, String user) {
            this.key = key;
            this.user = user;
        }
    }

    /**
     * A connection logged in as {@code user} with {@code password}, within connectionTimeout.
     *
     * @throws SQLException 28xxx if the server refuses the login; 53300 if maxUserPools pools exist and each is in
     *                      use; as {@code getConnection()} otherwise (a timeout, the pool closed)
     */
    public Connection getConnection(String user, String password) throws SQLException {
        if (user == null) {
            throw new SQLException(base.poolName() + " - getConnection(username, password): got a null username; "
                    + "allowed: a user name (getConnection() serves the configured user)", "28000");
        }
        if (main.logsInAs(user, password)) {
            return main.getConnection();
        }
        long timeoutNanos = base.connectionTimeout().toNanos();
        long deadline = System.nanoTime() + timeoutNanos;
        Key key = new Key(user, digest(password));
        long now = base.ticker().read();
        Member member;
        Member displaced = null;
        boolean build = false;
        lock.lock();
        try {
            if (closed) {
                throw new SQLException(base.poolName() + " - the data source is closed", "08003");
            }
            member = members.get(key);
            if (member == null) {
                if (members.size() >= base.maxUserPools()) {
                    displaced = leastRecentlyUsedIdle();
                    if (displaced == null) {
                        throw new SQLTransientConnectionException(base.poolName() + " - maxUserPools ("
                                + base.maxUserPools() + ") users have pools, each with connections lent or callers "
                                + "waiting; a pool for user '" + user + "' would need one of them closed (raise "
                                + "maxUserPools, or serve these users from fewer roles)", "53300");
                    }
                    members.remove(displaced.key);
                }
                member = new Member(key, user);
                members.put(key, member);
                build = true;
            }
            member.borrowing++;
            member.lastUsed = now;
        } finally {
            lock.unlock();
        }
        try {
            if (displaced != null) {
                LOG.info("{} - closing the pool of user '{}', used longest ago, for one of user '{}' (maxUserPools {})",
                        base.poolName(), displaced.user, user, base.maxUserPools());
                closeInBackground(built(displaced));
            }
            ConnectionPool pool = build ? build(member, password) : await(member, deadline, timeoutNanos);
            if (pool.connectionsCreated() > 0 && member.userChecked) {
                return pool.getConnection(remaining(deadline));
            }
            return checkedUser(member, pool, firstBorrow(member, pool, deadline));
        } finally {
            lock.lock();
            try {
                member.borrowing--;
            } finally {
                lock.unlock();
            }
        }
    }

    /** The member's pool if it was built (null while building, or if building failed). */
    private static ConnectionPool built(Member member) {
        return member.pool.isDone() && !member.pool.isCompletedExceptionally() ? member.pool.join() : null;
    }

    /**
     * Closes a pool on a thread of its own: not on the caller's time, and not on the main pool's closers, which a
     * connect still under way in that pool could hold for seconds.
     */
    private void closeInBackground(ConnectionPool pool) {
        if (pool == null) {
            return;
        }
        java.util.concurrent.ThreadFactory factory = base.threadFactory();
        Runnable close = pool::close;
        Thread closing = factory != null ? factory.newThread(close) : new Thread(close);
        if (closing == null) {
            pool.close();
            return;
        }
        if (factory == null) {
            closing.setName(pool.poolName() + "-closing");
            closing.setDaemon(true);
        }
        closing.start();
    }

    /**
     * Checks, once per pool, that its connection is logged in as its user: a driver may take credentials from
     * elsewhere (see the class notes). On a mismatch the connection and the pool are closed and the call fails.
     */
    private Connection checkedUser(Member member, ConnectionPool pool, Connection c) throws SQLException {
        if (member.userChecked) {
            return c;
        }
        String loggedIn;
        try {
            loggedIn = c.getMetaData().getUserName();
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        // MySQL and MariaDB answer user@host; others the user, in the case the server keeps.
        if (loggedIn != null && !loggedIn.equalsIgnoreCase(member.user)
                && !loggedIn.toLowerCase(java.util.Locale.ROOT).startsWith(
                        member.user.toLowerCase(java.util.Locale.ROOT) + "@")) {
            c.close();
            SQLException wrongUser = new SQLException(base.poolName() + " - a connection for user '" + member.user
                    + "' logged in as '" + loggedIn + "': the data source's URL, properties or DataSource name a "
                    + "user of their own, which the driver prefers; configure them without one to serve "
                    + "getConnection(username, password)", "28000");
            member.loginFailure = wrongUser; // for that user's other callers, who find the pool closed
            if (forget(member)) {
                closeInBackground(pool);
            }
            throw wrongUser;
        }
        member.userChecked = true;
        return c;
    }

    /** Under {@link #lock}: the member with nothing lent, nobody waiting and no borrow under way, used longest ago. */
    private Member leastRecentlyUsedIdle() {
        Member oldest = null;
        for (Member m : members.values()) {
            ConnectionPool pool = built(m);
            if (m.borrowing == 0 && pool != null && pool.activeConnections() == 0 && pool.waitingThreads() == 0
                    && (oldest == null || m.lastUsed - oldest.lastUsed < 0)) {
                oldest = m;
            }
        }
        return oldest;
    }

    private ConnectionPool build(Member member, String password) throws SQLException {
        String name;
        lock.lock();
        try {
            name = base.poolName() + "-user-" + (++numbered);
        } finally {
            lock.unlock();
        }
        ConnectionPool pool;
        try {
            FerryConfig config = base.toBuilder().forUser(name, member.user, password).scheduler(main.scheduler())
                    .build();
            pool = new ConnectionPool(config, main.sharedBudget());
        } catch (SQLException | RuntimeException | Error e) {
            forget(member);
            member.pool.completeExceptionally(e);
            if (e instanceof RuntimeException) { // a setting the user's pool cannot take: a SQLException to the caller
                throw new SQLException(base.poolName() + " - could not build the pool of user '" + member.user
                        + "': " + e.getMessage(), "08001", e);
            }
            throw e;
        }
        LOG.info("{} - opened a pool for user '{}' ({}: up to {} connections, within maximumPoolSize {})",
                base.poolName(), member.user, name, base.perUserPoolSize(), base.maximumPoolSize());
        member.pool.complete(pool);
        boolean closedMeanwhile;
        lock.lock();
        try {
            closedMeanwhile = closed;
        } finally {
            lock.unlock();
        }
        if (closedMeanwhile) {
            pool.close(); // close() ran while it was built and did not see it
            throw new SQLException(base.poolName() + " - the data source is closed", "08003");
        }
        return pool;
    }

    /** Waits, within the caller's time, for another caller to finish building the member's pool. */
    private ConnectionPool await(Member member, long deadline, long timeoutNanos) throws SQLException {
        try {
            return member.pool.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException(base.poolName() + " - interrupted while waiting for a connection", "HY008", e);
        } catch (TimeoutException e) {
            throw new SQLTransientConnectionException(base.poolName() + " - connection is not available for user '"
                    + member.user + "', request timed out after " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                    + "ms while its pool was being built", "08001", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof SQLException sql ? sql : new SQLException(base.poolName() + " - could not build "
                    + "the pool of user '" + member.user + "': " + cause, "08001", cause);
        }
    }

    /**
     * Borrows from a pool that has not opened a connection yet, in slices, so that a refused login fails the
     * caller at once (see the class notes).
     */
    private Connection firstBorrow(Member member, ConnectionPool pool, long deadline) throws SQLException {
        for (;;) {
            if (member.loginFailure != null) {
                throw failedBefore(member);
            }
            long left = deadline - System.nanoTime();
            if (pool.connectionsCreated() > 0 || left <= FIRST_LOGIN_SLICE_NANOS) {
                return pool.getConnection(Duration.ofNanos(Math.max(0, left)));
            }
            long sliceStart = System.nanoTime();
            try {
                return pool.getConnection(FIRST_LOGIN_SLICE);
            } catch (SQLException e) {
                SQLException last = pool.lastConnectFailure();
                if (pool.connectionsCreated() == 0 && refusesLogin(last, postgres)) {
                    SQLException refused = loginRefused(member, last);
                    member.loginFailure = refused;
                    if (forget(member)) {
                        pool.close();
                    }
                    throw refused;
                }
                if (member.loginFailure != null) {
                    throw failedBefore(member);
                }
                if (!(e instanceof SQLTransientConnectionException)
                        || System.nanoTime() - sliceStart < FIRST_LOGIN_SLICE_NANOS) {
                    throw e; // not the slice timing out (closed, interrupted, refused at once): as any borrow
                }
            }
        }
    }

    /**
     * Whether a connect failed because the server refused this login: SQLState class 28 (wrong password, no such
     * role), or, on PostgreSQL, 08004, the connection rejected (pgjdbc's answer when a password is required and
     * none was given; MySQL's drivers use 08004 for "too many connections", which is not a refusal of the login).
     */
    static boolean refusesLogin(SQLException e, boolean postgres) {
        String state = e == null ? null : e.getSQLState();
        return state != null && (state.startsWith("28") || state.equals("08004") && postgres);
    }

    /** The failure that closed the member's pool, for another of its callers (with this caller's stack). */
    private static SQLException failedBefore(Member member) {
        SQLException first = member.loginFailure;
        return new SQLException(first.getMessage(), first.getSQLState(), first);
    }

    private SQLException loginRefused(Member member, SQLException refused) {
        return new SQLException(base.poolName() + " - the server refused the login of user '" + member.user + "': "
                + refused.getMessage(), refused.getSQLState(), refused);
    }

    /** Removes the member if it is still the one mapped; true if this call removed it. */
    private boolean forget(Member member) {
        lock.lock();
        try {
            return members.remove(member.key, member);
        } finally {
            lock.unlock();
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    private static String digest(String password) {
        if (password == null) {
            return "";
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(password.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /** The users' pools serving now: each one's name, user and counts, nothing to borrow with. */
    public List<dev.ferry.UserPool> pools() {
        List<dev.ferry.UserPool> views = new ArrayList<>();
        for (Map.Entry<String, ConnectionPool> e : livePools()) {
            ConnectionPool p = e.getValue();
            views.add(new dev.ferry.UserPool(p.poolName(), e.getKey(), p.totalConnections(), p.activeConnections(),
                    p.idleConnections(), p.waitingThreads()));
        }
        return views;
    }

    /** The users' pools serving now, each with its user (for tests; never handed to the public API). */
    public List<Map.Entry<String, ConnectionPool>> livePools() {
        List<Map.Entry<String, ConnectionPool>> pools = new ArrayList<>();
        lock.lock();
        try {
            for (Member m : members.values()) {
                ConnectionPool pool = built(m);
                if (pool != null) {
                    pools.add(Map.entry(m.user, pool));
                }
            }
        } finally {
            lock.unlock();
        }
        return pools;
    }

    /** Connections open across the main pool and the users' pools, as the shared budget counts them. */
    public int budgetUsed() {
        return main.sharedBudget().open();
    }

    /** Closes every user's pool (before the main pool closes); later calls fail. */
    @Override
    public void close() {
        List<Member> all;
        lock.lock();
        try {
            closed = true;
            all = new ArrayList<>(members.values());
            members.clear();
        } finally {
            lock.unlock();
        }
        for (Member m : all) {
            ConnectionPool pool = built(m); // (one still being built sees closed and closes itself)
            if (pool != null) {
                pool.close();
            }
        }
    }
}
