package dev.ferry.pool;

import dev.ferry.FerryListener;
import dev.ferry.PoolEvent;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a pool's events to its listeners (the logging listener first, then the user's, in the order added),
 * on the calling thread. The pool calls {@link #fire} only outside its locks. A listener that throws (anything
 * but a {@link VirtualMachineError}) is logged and the others still hear the event: a listener's bug must not
 * fail a borrow or stop housekeeping. Events raised by racing threads may reach listeners out of order.
 */
final class PoolEvents {

    private static final Logger LOG = LoggerFactory.getLogger(PoolEvents.class);

    private final FerryListener[] listeners;

    PoolEvents(List<FerryListener> listeners) {
        this.listeners = listeners.toArray(new FerryListener[0]);
    }

    void fire(PoolEvent event) {
        for (FerryListener l : listeners) {
            try {
                deliver(l, event);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable e) {
                LOG.warn("{} - listener {} failed on {}", event.pool(), l.getClass().getName(),
                        event.getClass().getSimpleName(), e);
            }
        }
    }

    private static void deliver(FerryListener l, PoolEvent event) {
        if (event instanceof PoolEvent.Exhausted e) {
            l.poolExhausted(e);
        } else if (event instanceof PoolEvent.Recovered e) {
            l.poolRecovered(e);
        } else if (event instanceof PoolEvent.ReserveUsed e) {
            l.reserveUsed(e);
        } else if (event instanceof PoolEvent.LeakSuspected e) {
            l.leakSuspected(e);
        } else if (event instanceof PoolEvent.LeakReturned e) {
            l.leakReturned(e);
        } else if (event instanceof PoolEvent.MultipleAcquisition e) {
            l.multipleAcquisition(e);
        } else if (event instanceof PoolEvent.ConnectionReclaimed e) {
            l.connectionReclaimed(e);
        } else if (event instanceof PoolEvent.SlowStatement e) {
            l.slowStatement(e);
        } else if (event instanceof PoolEvent.ConnectionEvicted e) {
            l.connectionEvicted(e);
        } else if (event instanceof PoolEvent.Resized e) {
            l.resized(e);
        } else if (event instanceof PoolEvent.Shed e) {
            l.shed(e);
        } else if (event instanceof PoolEvent.ReplicaBanned e) {
            l.replicaBanned(e);
        } else if (event instanceof PoolEvent.ReplicaUnbanned e) {
            l.replicaUnbanned(e);
        } else if (event instanceof PoolEvent.Failover e) {
            l.failover(e);
        }
    }
}
