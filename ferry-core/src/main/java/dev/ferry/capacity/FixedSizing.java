package dev.ferry.capacity;

/**
 * A pool of one size: that many connections opened at start and kept, whatever the load, and no more opened for
 * callers that wait. For databases where a connection is expensive to open and the load is steady (HikariCP's
 * advice: minimumIdle = maximumPoolSize). The pool still replaces connections it retires (lifetime, failures).
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

    /** Callers that wait are served by the connections there are: more are opened only below the size. */
    @Override
    public boolean grow(PoolLoad load) {
        return load.open() < size;
    }

    @Override
    public void validate(int maximumPoolSize, int minimumIdle) {
        if (size > maximumPoolSize) {
            throw new IllegalArgumentException("sizing fixed: got " + size + " connections with maximumPoolSize "
                    + maximumPoolSize + "; allowed: 1 to maximumPoolSize");
        }
        if (minimumIdle > size) {
            throw new IllegalArgumentException("sizing fixed: got " + size + " connections with minimumIdle "
                    + minimumIdle + "; allowed: a size of at least minimumIdle");
        }
    }

    @Override
    public String toString() {
        return "fixed(" + size + ")";
    }
}
