package dev.ferry.capacity;

import java.time.ZonedDateTime;

/**
 * What a pool observed at one moment, as a {@link SizingPolicy} sees it. Counts are a snapshot taken without a
 * lock, so they may be off by a caller or two that moved meanwhile; no policy decision depends on exactness.
 *
 * @param nanoTime           the pool's ticker (monotonic nanoseconds): for windows and calm periods
 * @param wallTime           the pool's clock, in its zone: for calendar windows and hour-of-week learning
 * @param open               physical connections open or being opened (what the database sees of the budget)
 * @param active             connections lent now
 * @param idle               connections ready to lend now
 * @param unserved           callers waiting that have not yet been handed a connection
 * @param pending            connects in progress
 * @param maximumPoolSize    the most the pool may open now (maximumPoolSize, lowered by a server-aware cap)
 * @param minimumIdle        idle connections the pool keeps regardless of policy
 * @param meanHoldNanos      recent mean time a borrower kept a connection; 0 while none has been returned
 * @param meanActiveAgeNanos mean time the connections lent now have been out; 0 if none is lent
 * @param meanConnectNanos   recent mean time to open a connection; 0 while none has been opened
 * @param recentDemand       demand (lent plus waiting) averaged over the time of the last sizing period, not
 *                           sampled: a burst of a few milliseconds moves it by that little; 0 before the first
 * @param usedInPeriod       connections lent at some moment of the current sizing period (lent now, or returned
 *                           since it began): close to the period's peak of concurrent borrowers, which the pool
 *                           does not track per borrow (a lender reuses the connections it returned last first)
 */
public record PoolLoad(long nanoTime, ZonedDateTime wallTime, int open, int active, int idle, int unserved,
                       int pending, int maximumPoolSize, int minimumIdle, long meanHoldNanos,
                       long meanActiveAgeNanos, long meanConnectNanos, double recentDemand, int usedInPeriod) {

    /** Callers that want a connection at this instant: the ones holding one and the ones waiting for one. */
    public int demand() {
        return active + unserved;
    }

    /** The most callers that wanted a connection during the period, as far as the pool can tell. */
    public int peakDemand() {
        return Math.max(demand(), usedInPeriod + unserved);
    }
}
