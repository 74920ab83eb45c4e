package dev.ferry.capacity;

/**
 * A named share of one pool's connections ({@code FerryConfig.Builder.lane}): a lane holds at most {@code cap}
 * connections, is guaranteed {@code minimum} of them when it needs them, and shares what is left with the other
 * lanes in proportion to {@code weight} ({@link LaneBudget} has the rules).
 *
 * @param name    how callers name it: {@code dataSource.lane(name)}
 * @param minimum connections it gets ahead of every lane at or above its own minimum
 * @param cap     connections it may hold at most, borrowed capacity included
 * @param weight  its share of the capacity above the minimums, relative to other lanes' weights
 */
public record Lane(String name, int minimum, int cap, int weight) {

    /** The lane callers use when they name none. */
    public static final String MAIN = "main";

    public Lane {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("lane: got name '" + name + "'; allowed: a non-blank name");
        }
        if (minimum < 0 || cap < 1 || cap < minimum || weight < 1) {
            throw new IllegalArgumentException("lane " + name + ": got minimum " + minimum + ", cap " + cap
                    + ", weight " + weight + "; allowed: minimum 0 or more, cap at least 1 and at least the minimum, "
                    + "weight 1 or more");
        }
    }

    @Override
    public String toString() {
        return name + "(min " + minimum + ", cap " + cap + ", weight " + weight + ")";
    }
}
