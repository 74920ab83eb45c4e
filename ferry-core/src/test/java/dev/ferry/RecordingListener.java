package dev.ferry;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps every event it hears, in order, for tests to assert on. */
public final class RecordingListener implements FerryListener {

    public final List<PoolEvent> events = new CopyOnWriteArrayList<>();

    public <E extends PoolEvent> List<E> of(Class<E> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    @Override
    public void poolExhausted(PoolEvent.Exhausted event) {
        events.add(event);
    }

    @Override
    public void poolRecovered(PoolEvent.Recovered event) {
        events.add(event);
    }

    @Override
    public void reserveUsed(PoolEvent.ReserveUsed event) {
        events.add(event);
    }

    @Override
    public void leakSuspected(PoolEvent.LeakSuspected event) {
        events.add(event);
    }

    @Override
    public void leakReturned(PoolEvent.LeakReturned event) {
        events.add(event);
    }

    @Override
    public void multipleAcquisition(PoolEvent.MultipleAcquisition event) {
        events.add(event);
    }

    @Override
    public void connectionReclaimed(PoolEvent.ConnectionReclaimed event) {
        events.add(event);
    }

    @Override
    public void slowStatement(PoolEvent.SlowStatement event) {
        events.add(event);
    }

    @Override
    public void connectionEvicted(PoolEvent.ConnectionEvicted event) {
        events.add(event);
    }

    @Override
    public void resized(PoolEvent.Resized event) {
        events.add(event);
    }

    @Override
    public void shed(PoolEvent.Shed event) {
        events.add(event);
    }

    @Override
    public void replicaBanned(PoolEvent.ReplicaBanned event) {
        events.add(event);
    }

    @Override
    public void replicaUnbanned(PoolEvent.ReplicaUnbanned event) {
        events.add(event);
    }

    @Override
    public void failover(PoolEvent.Failover event) {
        events.add(event);
    }
}
