package dev.ferry.observe;

/**
 * A pool's live figures and runtime controls over JMX, registered as {@code dev.ferry:type=Pool,name=<poolName>}
 * when {@code registerMbeans} is set. The names of HikariCP's {@code HikariPoolMXBean} (active, idle, total,
 * threads awaiting, soft-evict, suspend, resume) mean the same here; the rest are Ferry's. Nothing secret is
 * exposed: no URL, user or password.
 */
public interface PoolMXBean {

    String getPoolName();

    int getActiveConnections();

    int getIdleConnections();

    int getTotalConnections();

    int getThreadsAwaitingConnection();

    int getMaximumPoolSize();

    /** Resizes the pool at run time; a value outside what the pool allows is refused with the reason. */
    void setMaximumPoolSize(int maximumPoolSize);

    int getMinimumIdle();

    void setMinimumIdle(int minimumIdle);

    /** Connections beyond the maximum that only CRITICAL callers may open. */
    int getReserve();

    void setReserve(int reserve);

    /** Times a CRITICAL caller opened a connection from the reserve. */
    long getReserveUses();

    /** The most connections the pool may open now: maximumPoolSize, lowered by the server-aware cap. */
    int getConnectionCap();

    /** What the sizing policy asks for now (0 without one). */
    int getSizingTarget();

    /** How long the oldest waiting caller has waited, in milliseconds (0: nobody waits). */
    long getOldestWaitMillis();

    /** Whether overload shedding is refusing NORMAL and BULK callers now. */
    boolean isOverloaded();

    boolean isSuspended();

    /** Closes idle connections now and the others when they are returned. */
    void softEvictConnections();

    /** Stops lending (needs allowPoolSuspension), as HikariCP's suspendPool. */
    void suspendPool();

    void resumePool();
}
