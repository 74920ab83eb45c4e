package dev.ferry.capacity;

import java.time.Duration;

/** The checks the policies' builders share, each failing with the setting, the value and what is allowed. */
final class PolicySettings {

    private PolicySettings() {
    }

    /** A window, a calm period, an idle time: more than zero. */
    static Duration positive(String setting, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(setting + ": got " + d + "; allowed: a positive duration");
        }
        return d;
    }

    /** How far ahead connections are opened: zero to a day. */
    static Duration lead(String setting, Duration d) {
        if (d == null || d.isNegative() || d.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException(setting + ": got " + d + "; allowed: 0 to 1 day");
        }
        return d;
    }
}
