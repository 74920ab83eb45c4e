package dev.ferry.capacity;

import java.time.Duration;
import java.util.List;

/**
 * Decides how many connections a pool keeps open, from what it observes ({@link PoolLoad}). Set one with
 * {@code FerryConfig.Builder.sizing(...)}; without one the pool sizes as HikariCP does (minimumIdle kept,
 * a connection opened for each caller that would otherwise wait, idle ones above minimumIdle retired after
 * idleTimeout).
 *
 * <p>The pool calls {@link #target} once per {@code sizingPeriod} on its scheduler, one period at a time, and
 * {@link #grow} from the thread of a caller about to wait (or from a re-check the pool schedules); never under
 * a lock of the pool's. Whatever a policy answers, the pool never opens more than maximumPoolSize (lowered by a
 * server-aware cap), and never retires an idle connection that would leave fewer than minimumIdle idle. A
 * policy may decline to open a connection to restore minimumIdle ({@link #grow}); the reactive one does while
 * the lent connections will be back before a connect could finish. With a policy and minimumIdle left unset,
 * minimumIdle defaults to 0 instead of maximumPoolSize (logged as an adaptation), so the policy, not the
 * default, sizes the pool.
 *
 * <p>Policies compose with {@link #combine}: the highest target wins, and a connection is opened on demand
 * only if every policy agrees. So {@code combine(reactive(), scheduled)} pre-warms for the calendar and still
 * refuses to open connections that would arrive after the queue has drained.
 */
public interface SizingPolicy {

    /**
     * Connections the pool should have open now, before any caller waits: the pool opens up to this many in the
     * background. Called once per sizing period, so a stateful policy may learn from each call.
     */
    int target(PoolLoad load);

    /**
     * Whether the pool should open another connection now, asked when callers wait or idle connections are below
     * minimumIdle. The default, yes, is HikariCP's: a connection for every caller that would otherwise wait, and
     * minimumIdle kept. When a policy answers no, the pool asks again a little later (a quarter of the mean
     * connect time, 1 to 100 ms).
     */
    default boolean grow(PoolLoad load) {
        return true;
    }

    /**
     * Idle connections above the target and above minimumIdle that have been idle this long are retired at the
     * next sizing period; null leaves idle retirement to idleTimeout, as in HikariCP.
     */
    default Duration retireIdleAfter() {
        return null;
    }

    /**
     * Checks the policy against the pool's sizes when the configuration is built, and when either changes.
     *
     * @throws IllegalArgumentException naming the policy, the value and what is allowed, if the policy asks for
     *                                  more connections than maximumPoolSize, or contradicts minimumIdle
     */
    default void validate(int maximumPoolSize, int minimumIdle) {
    }

    /** A pool of exactly {@code size} connections, opened at start and kept. */
    static SizingPolicy fixed(int size) {
        return new FixedSizing(size);
    }

    /** {@link ReactiveSizing} with its defaults: 70% target utilization over 10 s, 60 s calm before shrinking. */
    static SizingPolicy reactive() {
        return ReactiveSizing.builder().build();
    }

    /** The highest target of all; open on demand only if all agree; retire idle after the shortest period. */
    static SizingPolicy combine(SizingPolicy... policies) {
        return new CombinedSizing(List.of(policies));
    }
}
