package dev.ferry.capacity;

/**
 * A pool of one size: that many connections opened at start and kept, whatever the load. For databases where a
 * connection is expensive to open and the load is steady (HikariCP's advice: minimumIdle = maximumPoolSize).
 * The pool still replaces connections it retires (lifetime, failures), and never opens more than its maximum.
 */
final class FixedSizing implements SizingPolicy {

    private final int size;

    FixedSizing(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("sizing fixed: got " + size + "; allowed: 1 or more connections");
        }
        this.size = size;
    }

    @Override
    public int target(PoolLoad load) {
        return size;
    }

    @Override
    public void validate(int maximumPoolSize) {
        if (size > maximumPoolSize) {
            throw new IllegalArgumentException("sizing fixed: got " + size + " connections with maximumPoolSize "
                    + maximumPoolSize + "; allowed: 1 to maximumPoolSize");
        }
    }

    @Override
    public String toString() {
        return "fixed(" + size + ")";
    }
}
