package dev.ferry.capacity;

import java.util.concurrent.atomic.LongAdder;

/**
 * How long borrowers keep connections and how long connects take, for sizing decisions. Recording is a
 * {@link LongAdder} add per event (striped: no shared cache line on the return path). The means are recent:
 * over the last one to two sizing periods ({@link #roll} moves the window at each period), or over the
 * whole run while no event has fallen in that window; 0 until there is any event at all.
 */
public final class UsageMeter {

    private final Adders holds = new Adders();
    private final Adders connects = new Adders();

    /** A borrower returned a connection it had for {@code nanos}. */
    public void held(long nanos) {
        holds.add(nanos);
    }

    /** A connect took {@code nanos}. */
    public void connected(long nanos) {
        connects.add(nanos);
    }

    public long meanHoldNanos() {
        return holds.mean();
    }

    public long meanConnectNanos() {
        return connects.mean();
    }

    /** Starts a new period: the window now covers the period just ended and the one starting. */
    public void roll() {
        holds.roll();
        connects.roll();
    }

    private static final class Adders {
        final LongAdder sum = new LongAdder();
        final LongAdder count = new LongAdder();
        /** {sum, count} at the start of the previous period (one volatile: readers see a consistent pair). */
        volatile long[] window = {0, 0};
        /** {sum, count} at the start of the current period; only {@link #roll} (one thread) touches it. */
        long[] period = {0, 0};

        void add(long nanos) {
            sum.add(Math.max(0, nanos));
            count.increment();
        }

        long mean() {
            long n = count.sum();
            long s = sum.sum(); // read apart from the count: may include an add the count missed; clamped
            long[] w = window;
            if (n > w[1]) {
                return Math.max(0, (s - w[0]) / (n - w[1]));
            }
            return n == 0 ? 0 : s / n;
        }

        void roll() {
            window = period;
            period = new long[] {sum.sum(), count.sum()};
        }
    }
}
