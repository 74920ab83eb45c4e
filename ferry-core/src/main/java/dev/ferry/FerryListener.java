package dev.ferry;

/**
 * Receives a pool's {@link PoolEvent}s: add one with {@code FerryConfig.Builder.listener}. Every method has a
 * no-op default, so a listener overrides what it cares about.
 *
 * <p>Called on the thread where the event happens (a borrower's, a connector's, the housekeeper's), never under
 * one of the pool's locks. A listener that throws is logged and the pool goes on; a listener that blocks delays
 * that thread (a borrower, for {@link PoolEvent.Exhausted}), so hand slow work to an executor. The pool always
 * logs events through {@link dev.ferry.observe.LoggingListener}, rate-limited; a listener adds to that.
 */
public interface FerryListener {

    default void poolExhausted(PoolEvent.Exhausted event) {
    }

    default void poolRecovered(PoolEvent.Recovered event) {
    }

    default void reserveUsed(PoolEvent.ReserveUsed event) {
    }

    default void leakSuspected(PoolEvent.LeakSuspected event) {
    }

    default void leakReturned(PoolEvent.LeakReturned event) {
    }

    default void multipleAcquisition(PoolEvent.MultipleAcquisition event) {
    }

    default void connectionReclaimed(PoolEvent.ConnectionReclaimed event) {
    }

    default void slowStatement(PoolEvent.SlowStatement event) {
    }

    default void connectionEvicted(PoolEvent.ConnectionEvicted event) {
    }

    default void resized(PoolEvent.Resized event) {
    }

    default void shed(PoolEvent.Shed event) {
    }

    default void replicaBanned(PoolEvent.ReplicaBanned event) {
    }

    default void replicaUnbanned(PoolEvent.ReplicaUnbanned event) {
    }

    default void failover(PoolEvent.Failover event) {
    }
}
