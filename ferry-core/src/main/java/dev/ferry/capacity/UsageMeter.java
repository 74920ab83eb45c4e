package dev.ferry.capacity;

import java.util.concurrent.atomic.LongAdder;

/**
 * How long borrowers keep connections, how long callers wait and how long connects take, for sizing decisions.
 * Recording is a {@link LongAdder} add per event (striped: no shared cache line on the return path). The means
 * are recent: over the last one to two sizing periods ({@link #roll} moves the window at each period), or over
 * the whole run while no event has fallen in that window; 0 until there is any event at all.
 *
 * <p>Demand over a period is a time average, not a sample: the lent time that fell in the period (each return
 * adds the part of its hold since the period started; the pool adds the part of the holds still out when the
 * period ends) plus the time callers spent waiting, divided by the period's length. A burst of a few
 * milliseconds moves it by that much, however many callers it had. It is approximate at the edges: a return
 * racing the period's end may count its lent time in the period ending, the next one, or partly in both, and a
 * wait counts in the period it ends in.
 */
public final class UsageMeter {

    private final Adders holds = new Adders();
    private final Adders connects = new Adders();
    private final LongAdder busyInPeriod = new LongAdder();
    private final LongAdder waitedInPeriod = new LongAdder();
    private volatile long periodStart;
    private volatile double lastDemand;

    /** @param start the ticker's time now: the first period starts here */
    public UsageMeter(long start) {
        this.periodStart = start;
    }

    /**
     * A borrower returned, at {@code now}, a connection lent at {@code lentAt}.
     */
    public void held(long lentAt, long now) {
        holds.add(now - lentAt);
        long from = periodStart;
        busyInPeriod.add(now - (lentAt - from > 0 ? lentAt : from));
    }

    /** A caller waited {@code nanos} for a connection (served, timed out or refused). */
    public void waited(long nanos) {
        waitedInPeriod.add(Math.max(0, nanos));
    }

    /** When the current period started, by the ticker. */
    public long periodStart() {
        return periodStart;
    }

    /**
     * Ends the period at {@code now}: the mean demand over it (see the class notes), given the lent time of the
     * connections still out ({@code busyOfLentNow}, each counted from the period's start or its lend, the later);
     * starts the next period and moves the means' window on.
     */
    public double endPeriod(long now, long busyOfLentNow) {
        long length = now - periodStart;
        long busy = busyInPeriod.sumThenReset() + waitedInPeriod.sumThenReset() + busyOfLentNow;
        periodStart = now;
        roll();
        if (length > 0) {
            lastDemand = (double) busy / length;
        }
        return lastDemand;
    }

    /** The mean demand over the last period ended; 0 before the first. */
    public double lastDemand() {
        return lastDemand;
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

    /** Starts a new period for the means: the window now covers the period just ended and the one starting. */
    private void roll() {
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
