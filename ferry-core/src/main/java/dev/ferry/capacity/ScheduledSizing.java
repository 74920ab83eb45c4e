package dev.ferry.capacity;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps connections open for known peaks: calendar windows (days of the week and a time range, in the pool
 * clock's zone) each with a minimum, pre-warmed a lead time before the window starts.
 *
 * <h2>Design notes</h2>
 *
 * <p>The target at time {@code t} is the highest minimum among windows with {@code start - lead <= t < end},
 * zero outside every window (then only minimumIdle and other policies hold connections). A window whose end
 * is not after its start runs past midnight into the next day ({@code FRIDAY 22:00-02:00} ends Saturday 02:00);
 * the day named is the day it starts. Windows are checked when built: two that overlap (lead times
 * included) with different minimums fail, with both named, as a likely mistake (the target would silently be the
 * higher of the two wherever they overlap). Windows with the same minimum may overlap.
 *
 * <p>Outside its windows the policy holds nothing: connections it had opened stay until idleTimeout retires
 * them, or, with {@code retireIdleAfter}, once they have been idle that long.
 *
 * <p>The policy keeps no state: the same time gives the same target. The pool asks once per sizing period, so
 * connections are opened at the first period at or after {@code start - lead}; the lead time should be at least
 * one period plus the time the pool needs to open the connections.
 */
public final class ScheduledSizing implements SizingPolicy {

    private static final long WEEK_MINUTES = 7 * 24 * 60;

    /**
     * One calendar window.
     *
     * @param days    the days it starts on
     * @param from    its start, inclusive
     * @param to      its end, exclusive (on the next day if not after {@code from})
     * @param minimum connections to hold open during it
     */
    public record Window(Set<DayOfWeek> days, LocalTime from, LocalTime to, int minimum) {
        public Window {
            days = days.isEmpty() ? Set.of() : EnumSet.copyOf(days);
        }

        @Override
        public String toString() {
            return days + " " + from + "-" + to + " min " + minimum;
        }
    }

    private final List<Window> windows;
    private final Duration lead;
    private final Duration retireIdleAfter;

    private ScheduledSizing(List<Window> windows, Duration lead, Duration retireIdleAfter) {
        this.windows = List.copyOf(windows);
        this.lead = lead;
        this.retireIdleAfter = retireIdleAfter;
    }

    @Override
    public Duration retireIdleAfter() {
        return retireIdleAfter;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public int target(PoolLoad load) {
        return targetAt(load.wallTime());
    }

    /** The target at this time: the highest minimum among windows it falls in (lead included), else 0. */
    public int targetAt(ZonedDateTime t) {
        ZonedDateTime ahead = t.plus(lead);
        int target = 0;
        for (Window w : windows) {
            // A window that started yesterday may still run; one that starts tomorrow may already be in its lead.
            for (int dayOffset = -1; dayOffset <= 1; dayOffset++) {
                ZonedDateTime day = t.truncatedTo(ChronoUnit.DAYS).plusDays(dayOffset);
                if (!w.days().contains(day.getDayOfWeek())) {
                    continue;
                }
                ZonedDateTime start = day.with(w.from());
                ZonedDateTime end = w.to().isAfter(w.from()) ? day.with(w.to()) : day.plusDays(1).with(w.to());
                if (!ahead.isBefore(start) && t.isBefore(end)) {
                    target = Math.max(target, w.minimum());
                }
            }
        }
        return target;
    }

    @Override
    public void validate(int maximumPoolSize, int minimumIdle) {
        for (Window w : windows) {
            if (w.minimum() > maximumPoolSize) {
                throw new IllegalArgumentException("sizing scheduled: window " + w + " asks for " + w.minimum()
                        + " connections with maximumPoolSize " + maximumPoolSize + "; allowed: a minimum of 1 to "
                        + "maximumPoolSize");
            }
        }
    }

    public List<Window> windows() {
        return windows;
    }

    @Override
    public String toString() {
        return "scheduled(lead=" + lead + ", windows=" + windows + ")";
    }

    /** Windows and a lead time; {@link #build()} checks they do not contradict each other. */
    public static final class Builder {
        private final List<Window> windows = new ArrayList<>();
        private Duration lead = Duration.ofMinutes(30);
        private Duration retireIdleAfter;

        private Builder() {
        }

        /**
         * After a window, idle connections above the target (and minimumIdle) are retired once idle this long.
         * Default none: idleTimeout retires them, as any idle connection.
         */
        public Builder retireIdleAfter(Duration idle) {
            this.retireIdleAfter = PolicySettings.positive("scheduled retireIdleAfter", idle);
            return this;
        }

        /** A window on these days from {@code from} to {@code to} (past midnight if not after it). */
        public Builder window(Set<DayOfWeek> days, LocalTime from, LocalTime to, int minimum) {
            if (days == null || days.isEmpty()) {
                throw new IllegalArgumentException("scheduled window: got no days; allowed: one or more days");
            }
            if (from == null || to == null || from.equals(to)) {
                throw new IllegalArgumentException("scheduled window: got " + from + "-" + to
                        + "; allowed: a start and a different end (an end before the start runs past midnight)");
            }
            if (minimum < 1) {
                throw new IllegalArgumentException("scheduled window " + days + " " + from + "-" + to
                        + ": got minimum " + minimum + "; allowed: 1 or more connections");
            }
            windows.add(new Window(days, from, to, minimum));
            return this;
        }

        /** A window on one day. */
        public Builder window(DayOfWeek day, LocalTime from, LocalTime to, int minimum) {
            return window(EnumSet.of(day), from, to, minimum);
        }

        /** How long before a window starts its connections are opened. Default 30 minutes. */
        public Builder lead(Duration lead) {
            this.lead = PolicySettings.lead("scheduled lead", lead);
            return this;
        }

        /**
         * @throws IllegalArgumentException if there are no windows, or two windows with different minimums
         *                                  overlap (lead times included)
         */
        public ScheduledSizing build() {
            if (windows.isEmpty()) {
                throw new IllegalArgumentException("scheduled: got no windows; allowed: one or more windows");
            }
            long leadMinutes = lead.toMinutes();
            for (int i = 0; i < windows.size(); i++) {
                for (int j = i + 1; j < windows.size(); j++) {
                    Window a = windows.get(i);
                    Window b = windows.get(j);
                    if (a.minimum() != b.minimum() && overlap(a, b, leadMinutes)) {
                        throw new IllegalArgumentException("scheduled: windows " + a + " and " + b + " overlap (lead "
                                + lead.toMinutes() + " min included) with different minimums; allowed: overlapping "
                                + "windows only with the same minimum (split them, or give both the same minimum)");
                    }
                }
            }
            return new ScheduledSizing(windows, lead, retireIdleAfter);
        }

        private static boolean overlap(Window a, Window b, long leadMinutes) {
            for (long[] x : spans(a, leadMinutes)) {
                for (long[] y : spans(b, leadMinutes)) {
                    // Compare on the week's circle: shift y by a week either way.
                    for (long shift = -WEEK_MINUTES; shift <= WEEK_MINUTES; shift += WEEK_MINUTES) {
                        if (x[0] < y[1] + shift && y[0] + shift < x[1]) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        /** The window's occurrences as [start - lead, end) in minutes from Monday 00:00. */
        private static List<long[]> spans(Window w, long leadMinutes) {
            List<long[]> spans = new ArrayList<>();
            long from = w.from().toSecondOfDay() / 60;
            long to = w.to().toSecondOfDay() / 60;
            long length = to > from ? to - from : to + 24 * 60 - from;
            for (DayOfWeek d : w.days()) {
                long start = (d.getValue() - 1) * 24L * 60 + from;
                spans.add(new long[] {start - leadMinutes, start + length});
            }
            return spans;
        }
    }
}
