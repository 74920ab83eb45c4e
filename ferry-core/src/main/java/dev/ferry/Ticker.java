package dev.ferry;

/**
 * A source of monotonic time in nanoseconds. The pool reads every deadline, idle age and lifetime through
 * one, so tests can drive time instead of sleeping.
 */
@FunctionalInterface
public interface Ticker {

    /** Nanoseconds since an arbitrary origin, as {@link System#nanoTime()}. */
    long read();

    /** The JVM's monotonic clock. */
    static Ticker system() {
        return System::nanoTime;
    }
}
