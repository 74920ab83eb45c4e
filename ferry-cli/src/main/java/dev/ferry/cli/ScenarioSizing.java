package dev.ferry.cli;

import dev.ferry.FerryConfig;
import dev.ferry.capacity.ForecastSizing;
import dev.ferry.capacity.ReactiveSizing;
import dev.ferry.capacity.ScheduledSizing;
import dev.ferry.capacity.SizingPolicy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;

/**
 * Ferry's sizing policy for a load scenario ({@code --sizing}). Scenarios are a day compressed into seconds, so
 * the calendar policies run on a compressed clock: each step of the scenario is one hour of a Monday from 08:00
 * ({@link #DAY_START}), and the clock starts when the measured run does (before that it reads 07:00).
 * <ul>
 *   <li>{@code reactive}: {@link ReactiveSizing} with its window one step and its calm period two steps;
 *   <li>{@code scheduled}: a window with minimum {@code poolSize} over every step whose rate is at least half
 *       the highest, pre-warmed 30 compressed minutes (half a step) ahead; idle connections above the target
 *       retired after half a step (real time);
 *   <li>{@code forecast}: {@link ForecastSizing} with a 30-minute lead and a history file: the first run learns
 *       the scenario's hours, the next ones pre-warm ahead of its peaks; idle retirement as scheduled.
 * </ul>
 * Each policy is consulted every 250 ms. With a policy and no {@code --min-idle}, Ferry's minimumIdle is 1, so
 * the pool's size is the policy's doing.
 */
final class ScenarioSizing {

    static final ZonedDateTime DAY_START = ZonedDateTime.of(2026, 11, 23, 8, 0, 0, 0, ZoneOffset.UTC);
    static final List<String> NAMES = List.of("none", "reactive", "scheduled", "forecast");
    static final Duration PERIOD = Duration.ofMillis(250);

    private ScenarioSizing() {
    }

    /** Checks the name against the scenario, naming the option and what is allowed. */
    static void check(String sizing, Scenario s) {
        String name = sizing.toLowerCase(Locale.ROOT);
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("--sizing: got '" + sizing + "'; allowed: " + String.join(", ", NAMES));
        }
        if ((name.equals("scheduled") || name.equals("forecast")) && (s.shape() != Scenario.Shape.OPEN
                || s.rates().size() < 2)) {
            throw new IllegalArgumentException("--sizing: got '" + sizing + "' for " + s.name() + "; allowed: "
                    + "scheduled and forecast only for scenarios with steps (ramp, peak-day), reactive or none for any");
        }
    }

    /** Applies the scenario's sizing to a Ferry configuration; returns the clock to start, or null. */
    static CompressedClock apply(FerryConfig.Builder b, Scenario s) {
        String name = s.sizing().toLowerCase(Locale.ROOT);
        if (name.equals("none")) {
            return null;
        }
        b.sizingPeriod(PERIOD).minimumIdle(s.minimumIdle() >= 0 ? s.minimumIdle() : 1);
        if (name.equals("reactive")) {
            Duration step = s.step().isZero() ? Duration.ofSeconds(5) : s.step();
            b.sizing(ReactiveSizing.builder().window(step).calmPeriod(step.multipliedBy(2)).build());
            return null;
        }
        CompressedClock clock = new CompressedClock(s.step());
        b.clock(clock);
        if (name.equals("scheduled")) {
            int peak = s.rates().stream().mapToInt(Integer::intValue).max().orElse(0);
            ScheduledSizing.Builder windows = ScheduledSizing.builder().lead(Duration.ofMinutes(30))
                    .retireIdleAfter(s.step().dividedBy(2));
            for (int i = 0; i < s.rates().size(); i++) {
                if (s.rates().get(i) * 2 >= peak) {
                    LocalTime from = DAY_START.toLocalTime().plusHours(i);
                    windows.window(DayOfWeek.MONDAY, from, from.plusHours(1), s.poolSize());
                }
            }
            b.sizing(windows.build());
        } else {
            b.sizing(ForecastSizing.builder().lead(Duration.ofMinutes(30)).retireIdleAfter(s.step().dividedBy(2))
                    .historyFile(s.forecastHistory() != null
                    ? s.forecastHistory() : Path.of("ferry-forecast-" + s.name() + ".txt")).build());
        }
        return clock;
    }

    /** One scenario step is one hour; reads 07:00 until {@link #start()}, then runs from 08:00. */
    static final class CompressedClock extends Clock {
        private final double hoursPerNano;
        private volatile long startNanos = Long.MIN_VALUE;

        CompressedClock(Duration step) {
            this.hoursPerNano = 1.0 / (step.isZero() ? Duration.ofSeconds(5) : step).toNanos();
        }

        void start() {
            startNanos = System.nanoTime();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            long start = startNanos;
            if (start == Long.MIN_VALUE) {
                return DAY_START.minusHours(1).toInstant();
            }
            double hours = (System.nanoTime() - start) * hoursPerNano;
            return DAY_START.toInstant().plusNanos((long) (hours * 3_600_000_000_000L));
        }
    }
}
