package dev.ferry.capacity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** Calendar windows: the target at given instants, lead time included, and the checks made when built. */
class ScheduledSizingTest {

    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    /** Saturday 2026-11-28. */
    private static final ZonedDateTime SATURDAY = ZonedDateTime.of(2026, 11, 28, 0, 0, 0, 0, PARIS);

    private final ScheduledSizing saturdayMornings = ScheduledSizing.builder()
            .window(DayOfWeek.SATURDAY, LocalTime.of(10, 0), LocalTime.of(12, 0), 20)
            .lead(Duration.ofMinutes(30)).build();

    @Test
    void preWarmsExactlyAtWindowStartMinusLeadAndReleasesAtItsEnd() {
        assertThat(saturdayMornings.targetAt(SATURDAY.withHour(9).withMinute(29).withSecond(59).withNano(999_999_999)))
                .isZero();
        assertThat(saturdayMornings.targetAt(SATURDAY.withHour(9).withMinute(30))).isEqualTo(20);
        assertThat(saturdayMornings.targetAt(SATURDAY.withHour(11).withMinute(59).withSecond(59))).isEqualTo(20);
        assertThat(saturdayMornings.targetAt(SATURDAY.withHour(12))).isZero();
        assertThat(saturdayMornings.targetAt(SATURDAY.minusDays(1).withHour(10))).as("Friday").isZero();
        assertThat(saturdayMornings.target(Loads.at(SATURDAY.withHour(10), 3))).isEqualTo(20);
    }

    @Test
    void aWindowEndingBeforeItStartsRunsPastMidnightAndItsLeadCrossesDays() {
        ScheduledSizing nightly = ScheduledSizing.builder()
                .window(DayOfWeek.FRIDAY, LocalTime.of(23, 30), LocalTime.of(2, 0), 8)
                .window(DayOfWeek.MONDAY, LocalTime.of(0, 15), LocalTime.of(1, 0), 5)
                .lead(Duration.ofMinutes(30)).build();
        ZonedDateTime friday = SATURDAY.minusDays(1);
        assertThat(nightly.targetAt(friday.withHour(22).withMinute(59))).isZero();
        assertThat(nightly.targetAt(friday.withHour(23))).isEqualTo(8);
        assertThat(nightly.targetAt(SATURDAY.withHour(1).withMinute(59))).isEqualTo(8);
        assertThat(nightly.targetAt(SATURDAY.withHour(2))).isZero();
        ZonedDateTime sunday = SATURDAY.plusDays(1);
        assertThat(nightly.targetAt(sunday.withHour(23).withMinute(44))).isZero();
        assertThat(nightly.targetAt(sunday.withHour(23).withMinute(45))).as("Monday's window, in its lead").isEqualTo(5);
    }

    @Test
    void overlappingWindowsTakeTheHighestWhenTheyAgreeOrFailToBuildWhenTheyConflict() {
        ScheduledSizing agreeing = ScheduledSizing.builder()
                .window(EnumSet.of(DayOfWeek.SATURDAY, DayOfWeek.SUNDAY), LocalTime.of(9, 0), LocalTime.of(18, 0), 12)
                .window(DayOfWeek.SATURDAY, LocalTime.of(17, 0), LocalTime.of(20, 0), 12).build();
        assertThat(agreeing.targetAt(SATURDAY.withHour(17).withMinute(30))).isEqualTo(12);

        assertThatThrownBy(() -> ScheduledSizing.builder()
                .window(DayOfWeek.SATURDAY, LocalTime.of(9, 0), LocalTime.of(12, 0), 12)
                .window(DayOfWeek.SATURDAY, LocalTime.of(11, 0), LocalTime.of(14, 0), 30).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overlap").hasMessageContaining("min 12").hasMessageContaining("min 30");
        // Apart by 20 minutes, but the second one's 30-minute lead reaches back into the first.
        assertThatThrownBy(() -> ScheduledSizing.builder()
                .window(DayOfWeek.SATURDAY, LocalTime.of(9, 0), LocalTime.of(10, 0), 12)
                .window(DayOfWeek.SATURDAY, LocalTime.of(10, 20), LocalTime.of(11, 0), 30)
                .lead(Duration.ofMinutes(30)).build())
                .hasMessageContaining("lead 30 min included");
        // Sunday night into Monday overlaps Monday morning across the week's end.
        assertThatThrownBy(() -> ScheduledSizing.builder().lead(Duration.ZERO)
                .window(DayOfWeek.SUNDAY, LocalTime.of(22, 0), LocalTime.of(3, 0), 4)
                .window(DayOfWeek.MONDAY, LocalTime.of(1, 0), LocalTime.of(2, 0), 6).build())
                .hasMessageContaining("overlap");
    }

    @Test
    void badWindowsFailNamingWhatIsAllowed() {
        assertThatThrownBy(() -> ScheduledSizing.builder().build()).hasMessageContaining("no windows");
        assertThatThrownBy(() -> ScheduledSizing.builder().window(EnumSet.noneOf(DayOfWeek.class),
                LocalTime.NOON, LocalTime.MIDNIGHT, 3)).hasMessageContaining("no days");
        assertThatThrownBy(() -> ScheduledSizing.builder().window(DayOfWeek.MONDAY, LocalTime.NOON, LocalTime.NOON, 3))
                .hasMessageContaining("a start and a different end");
        assertThatThrownBy(() -> ScheduledSizing.builder().window(DayOfWeek.MONDAY, LocalTime.NOON,
                LocalTime.of(13, 0), 0)).hasMessageContaining("got minimum 0");
        assertThatThrownBy(() -> saturdayMornings.validate(10, 0))
                .hasMessageContaining("asks for 20 connections with maximumPoolSize 10");
    }
}
