package dev.ferry.capacity;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;

/** PoolLoad values for policy tests: only what a test sets differs from an idle pool of 50. */
final class Loads {

    static final long MS = 1_000_000L;
    static final ZonedDateTime MONDAY = ZonedDateTime.of(2026, 11, 23, 0, 0, 0, 0, ZoneOffset.UTC);

    private Loads() {
    }

    /** A sizing period's view: demand {@code active} lent and {@code unserved} waiting, at {@code nanoTime}. */
    static PoolLoad at(long nanoTime, int active, int unserved) {
        return new PoolLoad(nanoTime, MONDAY, active, active, 0, unserved, 0, 50, 0, 0, 0, 0, active + unserved, active);
    }

    /** At a wall-clock time, with this demand. */
    static PoolLoad at(ZonedDateTime when, int demand) {
        return new PoolLoad(0, when, demand, demand, 0, 0, 0, 50, 0, 0, 0, 0, demand, demand);
    }

    /** A caller is about to wait: the numbers grow weighs. */
    static PoolLoad waiting(int active, int idle, int unserved, int pending, long holdNanos, long ageNanos,
                            long connectNanos) {
        return new PoolLoad(0, MONDAY, active + idle + pending, active, idle, unserved, pending, 50, 0, holdNanos,
                ageNanos, connectNanos, active + unserved, active);
    }
}
