package dev.ferry.capacity;

import java.time.Duration;
import java.util.List;

/**
 * Several policies as one: the highest target, a connection on demand only if every policy agrees, idle
 * retirement after the shortest period any policy asks for. Every policy's {@link #target} is called on every
 * period (none is skipped), so each one that learns from its calls sees them all.
 */
final class CombinedSizing implements SizingPolicy {

    private final List<SizingPolicy> policies;

    CombinedSizing(List<SizingPolicy> policies) {
        if (policies.isEmpty()) {
            throw new IllegalArgumentException("sizing: got no policies to combine; allowed: one or more");
        }
        this.policies = policies;
    }

    @Override
    public int target(PoolLoad load) {
        int target = 0;
        for (SizingPolicy p : policies) {
            target = Math.max(target, p.target(load));
        }
        return target;
    }

    @Override
    public boolean grow(PoolLoad load) {
        for (SizingPolicy p : policies) {
            if (!p.grow(load)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Duration retireIdleAfter() {
        Duration shortest = null;
        for (SizingPolicy p : policies) {
            Duration d = p.retireIdleAfter();
            if (d != null && (shortest == null || d.compareTo(shortest) < 0)) {
                shortest = d;
            }
        }
        return shortest;
    }

    @Override
    public void validate(int maximumPoolSize, int minimumIdle) {
        for (SizingPolicy p : policies) {
            p.validate(maximumPoolSize, minimumIdle);
        }
    }

    @Override
    public String toString() {
        return "combine" + policies;
    }
}
