package dev.ferry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;

/** A scheduler whose tasks run only when the test calls {@link #runDue()}, at the fake ticker's time. */
public final class ManualScheduler implements Scheduler {

    private final FakeTicker ticker;
    private final List<Scheduled> tasks = new ArrayList<>();

    public ManualScheduler(FakeTicker ticker) {
        this.ticker = ticker;
    }

    private record Scheduled(long due, FutureTask<?> task) {
    }

    @Override
    public synchronized Future<?> schedule(Runnable task, Duration delay) {
        FutureTask<?> future = new FutureTask<>(task, null);
        tasks.add(new Scheduled(ticker.read() + delay.toNanos(), future));
        return future;
    }

    /** Runs every task due by now (including ones they schedule that are also due); returns how many ran. */
    public int runDue() {
        int ran = 0;
        for (;;) {
            FutureTask<?> next = null;
            synchronized (this) {
                for (int i = 0; i < tasks.size(); i++) {
                    if (tasks.get(i).due() <= ticker.read()) {
                        next = tasks.remove(i).task();
                        break;
                    }
                }
            }
            if (next == null) {
                return ran;
            }
            if (!next.isCancelled()) {
                next.run();
                ran++;
            }
        }
    }

    /** Advances the ticker and runs what fell due. */
    public int advance(Duration d) {
        ticker.advance(d);
        return runDue();
    }

    public synchronized int pending() {
        return (int) tasks.stream().filter(t -> !t.task().isCancelled()).count();
    }
}
