package dev.ferry.capacity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Learning demand per hour of the week from sizing periods, and pre-warming ahead of it. */
class ForecastSizingTest {

    /** Monday 2026-11-23 00:00 UTC; the Saturday of that week is the 28th. */
    private static final ZonedDateTime WEEK = ZonedDateTime.of(2026, 11, 23, 0, 0, 0, 0, ZoneOffset.UTC);

    /** Demand 2 all week, 20 on Saturday from 10:00 to 11:00. */
    private static int demand(ZonedDateTime t) {
        return t.getDayOfWeek().getValue() == 6 && t.getHour() == 10 ? 20 : 2;
    }

    /** One sizing period a minute for a week starting at {@code from}. */
    private static void live(ForecastSizing policy, ZonedDateTime from, Duration length) {
        for (ZonedDateTime t = from; t.isBefore(from.plus(length)); t = t.plusMinutes(1)) {
            policy.target(Loads.at(t, demand(t)));
        }
    }

    @Test
    void afterAWeekItPreWarmsALeadTimeAheadOfTheLearnedPeak() {
        ForecastSizing policy = ForecastSizing.builder().lead(Duration.ofMinutes(30)).build();
        assertThat(policy.target(Loads.at(WEEK, 0))).as("nothing learned").isZero();
        live(policy, WEEK, Duration.ofDays(7));
        ZonedDateTime nextSaturday = WEEK.plusDays(12);
        assertThat(policy.forecastAt(nextSaturday.withHour(9).withMinute(29))).isEqualTo(2);
        assertThat(policy.forecastAt(nextSaturday.withHour(9).withMinute(30))).isEqualTo(20);
        assertThat(policy.forecastAt(nextSaturday.withHour(10).withMinute(59))).isEqualTo(20);
        assertThat(policy.forecastAt(nextSaturday.withHour(11))).isEqualTo(2);
        // And through target(), as the pool asks it, at 09:30 of the second Saturday:
        live(policy, WEEK.plusDays(7), Duration.ofDays(5).plusHours(9).plusMinutes(30));
        assertThat(policy.target(Loads.at(nextSaturday.withHour(9).withMinute(30), 2))).isEqualTo(20);
    }

    @Test
    void aPeakThatStopsRecurringFadesByTheDecayEachWeek() {
        ForecastSizing policy = ForecastSizing.builder().decay(0.5).lead(Duration.ZERO).build();
        live(policy, WEEK, Duration.ofDays(7));
        ZonedDateTime saturday10 = WEEK.plusDays(5).withHour(10);
        for (int week = 1; week <= 3; week++) {
            ZonedDateTime start = WEEK.plusWeeks(week);
            for (ZonedDateTime t = start; t.isBefore(start.plusDays(7)); t = t.plusMinutes(1)) {
                policy.target(Loads.at(t, 1)); // a quiet week
            }
        }
        // 20 -> 10 -> 5 -> 2.5 (above the quiet weeks' 1)
        assertThat(policy.learned()[5 * 24 + 10]).isEqualTo(2.5);
        assertThat(policy.forecastAt(saturday10.plusWeeks(4))).isEqualTo(3);
    }

    @Test
    void historyIsSavedEachHourAndLoadedByANewPolicy(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("forecast.txt");
        ForecastSizing first = ForecastSizing.builder().historyFile(file).build();
        live(first, WEEK, Duration.ofDays(7).plusMinutes(1));
        assertThat(file).exists();
        ForecastSizing restarted = ForecastSizing.builder().historyFile(file).lead(Duration.ofMinutes(30)).build();
        assertThat(restarted.learned()).containsExactly(first.learned());
        assertThat(restarted.forecastAt(WEEK.plusDays(12).withHour(9).withMinute(30))).isEqualTo(20);
    }

    @Test
    void aCorruptHistoryFailsTheBuildNamingFileAndLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("forecast.txt");
        Files.writeString(file, "# header\n0 1.5\n170 2\n");
        assertThatThrownBy(() -> ForecastSizing.builder().historyFile(file).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("line 3").hasMessageContaining("170 2");
    }
}
