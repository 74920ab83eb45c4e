package dev.ferry;

import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task once after a delay. The pool schedules housekeeping and leak checks through one, so tests can
 * substitute a scheduler they advance by hand. The pool re-arms its periodic work itself, so a scheduler
 * only ever needs to run single tasks.
 */
@FunctionalInterface
public interface Scheduler {

    /**
     * Runs {@code task} once, no earlier than {@code delay} from now.
     *
     * @return a handle whose {@link Future#cancel(boolean)} stops the task if it has not started
     */
    Future<?> schedule(Runnable task, Duration delay);

    /** A scheduler that runs tasks on {@code executor} (HikariCP's {@code scheduledExecutor}). */
    static Scheduler of(ScheduledExecutorService executor) {
        return (task, delay) -> executor.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    }
}
