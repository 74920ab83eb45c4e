package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.capacity.ForecastSizing;
import dev.ferry.capacity.ReactiveSizing;
import dev.ferry.capacity.ScheduledSizing;
import dev.ferry.capacity.SizingPolicy;
import dev.ferry.testkit.StubDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sizing policies driving a pool on the stub driver. Time is injected: the ticker (hold ages, connect times,
 * calm periods), the wall clock (calendar windows) and the scheduler (sizing periods, re-checks) move only when
 * the test moves them. Connector threads are real, so counts are awaited, never slept for.
 */
class SizingTest {

    /** Saturday 2026-11-28 09:29 in Paris. */
    private static final ZonedDateTime SATURDAY_0929 = ZonedDateTime.of(2026, 11, 28, 9, 29, 0, 0,
            ZoneId.of("Europe/Paris"));

    private final StubDatabase db = StubDatabase.create();
    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);
    private final MutableClock clock = new MutableClock(SATURDAY_0929);
    private final List<FerryDataSource> opened = new ArrayList<>();
    private final List<Connection> held = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    private FerryConfig.Builder config(int max) {
        return FerryConfig.builder().jdbcUrl(db.url()).driverClassName("dev.ferry.testkit.StubDriver")
                .poolName("sizing").maximumPoolSize(max).connectionTimeout(Duration.ofSeconds(30))
                .ticker(ticker).scheduler(scheduler).clock(clock);
    }

    private FerryPool start(FerryConfig.Builder builder) throws Exception {
        FerryDataSource ds = new FerryDataSource(builder.build());
        opened.add(ds);
        return ds.unwrap(FerryPool.class);
    }

    private FerryDataSource ds() {
        return opened.get(opened.size() - 1);
    }

    /** Moves the ticker and the wall clock together, then runs what fell due (sizing periods, re-checks). */
    private void advance(Duration d) {
        clock.advance(d);
        scheduler.advance(d);
    }

    private void hold(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            held.add(ds().getConnection());
        }
    }

    private void releaseHeld() throws Exception {
        for (Connection c : held) {
            c.close();
        }
        held.clear();
    }

    private List<Future<?>> waiters(FerryPool pool, int n) {
        List<Future<?>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(threads.submit(() -> {
                try (Connection c = ds().getConnection()) {
                    return c.isValid(1);
                }
            }));
        }
        await().until(() -> pool.waitingThreads() == n);
        return all;
    }

    @AfterEach
    void stop() throws Exception {
        releaseHeld();
        threads.shutdownNow();
        opened.forEach(FerryDataSource::close);
    }

    @ParameterizedTest(name = "minimumIdle {0}")
    @ValueSource(ints = {0, 1})
    void reactiveGrowsAheadOfDemandAndRetiresIdleConnectionsAfterTheCalmPeriod(int minimumIdle) throws Exception {
        FerryPool pool = start(config(20).minimumIdle(minimumIdle).sizing(ReactiveSizing.builder()
                .targetUtilization(0.7).window(Duration.ofSeconds(10)).calmPeriod(Duration.ofSeconds(60)).build()));
        hold(7);
        for (int s = 0; s < 10; s++) {
            advance(Duration.ofSeconds(1));
        }
        assertThat(pool.sizingTarget()).isEqualTo(10); // 7 lent over the window, at 70%
        await().until(() -> pool.totalConnections() == 10);
        assertThat(pool.idleConnections()).isEqualTo(3); // opened before anyone waited for them

        releaseHeld();
        for (int s = 0; s < 59; s++) {
            advance(Duration.ofSeconds(1));
        }
        assertThat(pool.totalConnections()).as("within the calm period").isEqualTo(10);
        for (int s = 0; s < 12; s++) {
            advance(Duration.ofSeconds(1));
        }
        assertThat(pool.sizingTarget()).isZero();
        await().until(() -> pool.totalConnections() == minimumIdle);
        assertThat(db.open.get()).isLessThanOrEqualTo(minimumIdle + 1); // closes run on the closer's threads
    }

    @Test
    void reactiveOpensNothingForASpikeThatReturnsWillServeFirst() throws Exception {
        // HikariCP's spike test, in fake time: connects take 150 ms, the 5 lent connections come back soon.
        db.onConnect = () -> ticker.advance(Duration.ofMillis(150));
        FerryPool pool = start(config(50).minimumIdle(5).sizing(SizingPolicy.reactive()));
        await().until(() -> pool.totalConnections() == 5 && pool.idleConnections() == 5);
        long connects = db.connectAttempts.get();
        hold(5);
        advance(Duration.ofMillis(1));
        List<Future<?>> spike = waiters(pool, 10);
        advance(Duration.ofMillis(50)); // the re-check: lent for 51 ms, 5 * 150 / 51 = 14.7 returns > 10 waiting
        assertThat(pool.totalConnections()).isEqualTo(5);
        assertThat(db.connectAttempts.get()).isEqualTo(connects);

        releaseHeld();
        for (Future<?> f : spike) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(true);
        }
        assertThat(pool.totalConnections()).isEqualTo(5);
        assertThat(db.connectAttempts.get()).isEqualTo(connects);
    }

    @Test
    void reactiveOpensConnectionsForCallersQueuedBehindLongHolds() throws Exception {
        db.onConnect = () -> ticker.advance(Duration.ofMillis(150));
        FerryPool pool = start(config(50).minimumIdle(5).sizing(SizingPolicy.reactive()));
        await().until(() -> pool.idleConnections() == 5);
        hold(5);
        advance(Duration.ofMillis(1));
        List<Future<?>> queued = waiters(pool, 10);
        assertThat(pool.totalConnections()).isEqualTo(5);
        // The lent ones have now been out a second: 5 * 0.15 / 1 = 0.75 returns before a connect: open.
        advance(Duration.ofSeconds(1));
        for (Future<?> f : queued) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(true); // served while the 5 are still held
        }
        // At most one per waiter, plus what connectors already on their way may add: a waiter can be served by a
        // connection another waiter gave back while a connector opens one for it (up to MAX_FILLERS = 3 at once).
        assertThat(pool.totalConnections()).isBetween(6, 5 + 10 + 2);
    }

    @ParameterizedTest(name = "minimumIdle {0}")
    @ValueSource(ints = {0, 1})
    void scheduledOpensTheWindowsConnectionsAtStartMinusLeadAndLetsThemGoAfter(int minimumIdle) throws Exception {
        FerryPool pool = start(config(10).minimumIdle(minimumIdle).sizingPeriod(Duration.ofMinutes(1))
                .idleTimeout(Duration.ofMinutes(10)).sizing(ScheduledSizing.builder()
                        .window(DayOfWeek.SATURDAY, LocalTime.of(10, 0), LocalTime.of(12, 0), 8)
                        .lead(Duration.ofMinutes(30)).build()));
        assertThat(pool.sizingTarget()).isZero();
        int before = pool.totalConnections();
        assertThat(before).isLessThanOrEqualTo(1);
        advance(Duration.ofSeconds(59)); // 09:29:59: no period has fallen due
        assertThat(pool.sizingTarget()).isZero();
        advance(Duration.ofSeconds(1)); // 09:30: the period at window start minus lead
        assertThat(pool.sizingTarget()).isEqualTo(8);
        await().until(() -> pool.totalConnections() == 8 && pool.idleConnections() == 8);

        clock.set(SATURDAY_0929.withHour(12).withMinute(0));
        advance(Duration.ofMinutes(1));
        assertThat(pool.sizingTarget()).isZero();
        advance(Duration.ofMinutes(11)); // idleTimeout, above minimumIdle and above the target: retired
        await().until(() -> pool.totalConnections() == minimumIdle);
    }

    @Test
    void forecastPreWarmsFromAHistoryLearnedBeforeARestart(@TempDir Path dir) throws Exception {
        Path history = dir.resolve("forecast.txt");
        int saturday10 = 5 * 24 + 10;
        Files.writeString(history, "# learned last week\n" + saturday10 + " 6.4\n");
        FerryPool pool = start(config(10).minimumIdle(0).sizing(ForecastSizing.builder()
                .historyFile(history).lead(Duration.ofMinutes(30)).build()));
        assertThat(pool.sizingTarget()).isZero(); // 09:29: the hour ahead is still 09:59
        advance(Duration.ofMinutes(1));
        assertThat(pool.sizingTarget()).isEqualTo(7);
        await().until(() -> pool.totalConnections() == 7);
    }

    @Test
    void thePolicyAndTheReserveChangeWhileRunning() throws Exception {
        FerryPool pool = start(config(10).minimumIdle(0));
        assertThat(pool.sizingPolicy()).isNull();
        pool.setSizingPolicy(SizingPolicy.fixed(6));
        scheduler.runDue(); // the first sizing period runs on the scheduler
        assertThat(pool.sizingTarget()).isEqualTo(6);
        await().until(() -> pool.totalConnections() == 6);
        assertThatThrownBy(() -> pool.setSizingPolicy(SizingPolicy.fixed(11)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maximumPoolSize 10");
        pool.setSizingPolicy(null);
        assertThat(pool.sizingTarget()).isZero();
        pool.setReserve(2);
        assertThat(pool.reserve()).isEqualTo(2);
        assertThatThrownBy(() -> pool.setReserve(-1)).hasMessageContaining("reserve: got -1");
    }

    @Test
    void policiesAskingForMoreThanTheBudgetFailWhenTheConfigurationIsBuilt() {
        assertThatThrownBy(() -> config(10).sizing(SizingPolicy.fixed(12)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sizing fixed: got 12").hasMessageContaining("maximumPoolSize 10");
        assertThatThrownBy(() -> config(10).sizing(SizingPolicy.combine(SizingPolicy.reactive(),
                ScheduledSizing.builder().window(DayOfWeek.MONDAY, LocalTime.NOON, LocalTime.of(13, 0), 40).build()))
                .build())
                .hasMessageContaining("asks for 40 connections with maximumPoolSize 10");
        assertThatThrownBy(() -> config(10).sizingPeriod(Duration.ofSeconds(5)).build())
                .hasMessageContaining("sizingPeriod: got 5000ms with no sizing policy");
        assertThatThrownBy(() -> config(10).sizing(SizingPolicy.reactive()).sizingPeriod(Duration.ofMillis(1)).build())
                .hasMessageContaining("allowed: 10ms to 1 hour");
        assertThat(config(10).sizing(SizingPolicy.fixed(10)).build().toString()).contains("sizing=fixed(10)");
        assertThatThrownBy(() -> config(10).minimumIdle(5).sizing(SizingPolicy.fixed(3)).build())
                .hasMessageContaining("sizing fixed: got 3 connections with minimumIdle 5");
    }

    @Test
    void aPolicyWithMinimumIdleLeftUnsetSizesThePoolInsteadOfTheDefault() {
        FerryConfig c = config(10).sizing(SizingPolicy.reactive()).build();
        assertThat(c.minimumIdle()).isZero();
        assertThat(c.adaptations()).anySatisfy(a -> assertThat(a).contains("minimumIdle 10 -> 0"));
        assertThat(config(10).minimumIdle(4).sizing(SizingPolicy.reactive()).build().minimumIdle()).isEqualTo(4);
    }

    @Test
    void aFixedPoolOpensNoMoreForWaitingCallers() throws Exception {
        FerryPool pool = start(config(10).sizing(SizingPolicy.fixed(2)));
        await().until(() -> pool.totalConnections() == 2);
        hold(2);
        List<Future<?>> queued = waiters(pool, 3);
        advance(Duration.ofSeconds(1));
        assertThat(pool.totalConnections()).isEqualTo(2);
        releaseHeld();
        for (Future<?> f : queued) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(true);
        }
        assertThat(db.connectAttempts.get()).isEqualTo(2);
    }
}
