package dev.ferry.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FakeTicker;
import dev.ferry.PoolEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.junit.jupiter.api.Test;

/** The logging listener's rate limit, driven by a fake ticker: a storm becomes one line per kind per interval. */
class LoggingListenerTest {

    private final FakeTicker ticker = new FakeTicker();
    private final Capture log = new Capture();
    private final LoggingListener listener = new LoggingListener(ticker, Duration.ofSeconds(10), log);

    @Test
    void anExhaustionStormIsOneLinePerIntervalWithTheCountLeftOut() {
        PoolEvent.Exhausted e = new PoolEvent.Exhausted("p", 4, 4, 9, 4);
        for (int i = 0; i < 1_000; i++) {
            listener.poolExhausted(e);
        }
        assertThat(log.lines).singleElement().satisfies(l -> assertThat(l).startsWith("WARN p - pool exhausted")
                .contains("total=4 open, active=4, waiting=9, cap=4").doesNotContain("not logged"));
        ticker.advance(Duration.ofSeconds(9));
        listener.poolExhausted(e);
        assertThat(log.lines).hasSize(1);
        ticker.advance(Duration.ofSeconds(1));
        listener.poolExhausted(e);
        assertThat(log.lines).hasSize(2);
        assertThat(log.lines.get(1)).endsWith("(1000 more of these not logged in the last interval)");
    }

    @Test
    void eachKindHasItsOwnLimit() {
        listener.poolExhausted(new PoolEvent.Exhausted("p", 1, 1, 1, 1));
        listener.reserveUsed(new PoolEvent.ReserveUsed("p", 1, 2, 1, 1));
        listener.connectionEvicted(new PoolEvent.ConnectionEvicted("p", "c1", "broken (SQLState 08006): gone"));
        listener.connectionEvicted(new PoolEvent.ConnectionEvicted("p", "c2", "broken (SQLState 08006): gone"));
        listener.resized(new PoolEvent.Resized("p", 2, 5));
        assertThat(log.lines).extracting(l -> l.substring(0, l.indexOf(" - ")))
                .containsExactly("WARN p", "WARN p", "WARN p", "INFO p");
        assertThat(log.lines.get(2)).contains("c1 evicted: broken (SQLState 08006)");
    }

    @Test
    void replicaBansAreWarnedAndTheirEndsNoted() {
        listener.replicaBanned(new PoolEvent.ReplicaBanned("p", "jdbc:postgresql://r1/app", "Connection refused",
                Duration.ofSeconds(30)));
        listener.replicaUnbanned(new PoolEvent.ReplicaUnbanned("p", "jdbc:postgresql://r1/app"));
        assertThat(log.lines).containsExactly(
                "WARN p - replica jdbc:postgresql://r1/app left out of reads for 30000ms: Connection refused",
                "INFO p - replica jdbc:postgresql://r1/app takes reads again");
    }

    @Test
    void routineRetirementsAreDebugOnly() {
        listener.connectionEvicted(new PoolEvent.ConnectionEvicted("p", "c1", "lifetime reached"));
        listener.connectionEvicted(new PoolEvent.ConnectionEvicted("p", "c1", "idle timeout"));
        assertThat(log.lines).isEmpty(); // the capture has DEBUG off, as production logs usually do
    }

    @Test
    void aLeakLineCarriesTheBorrowersStack() {
        Throwable site = new Exception("connection borrowed here by thread t");
        listener.leakSuspected(new PoolEvent.LeakSuspected("p", "c1", Duration.ofSeconds(3), site));
        assertThat(log.lines).singleElement().satisfies(l -> assertThat(l)
                .contains("connection leak suspected: c1 has been out for 3000ms"));
        assertThat(log.throwables).containsExactly(site);
    }

    /** A logger keeping "LEVEL message" lines (INFO and above). */
    static final class Capture extends LegacyAbstractLogger {
        final List<String> lines = new CopyOnWriteArrayList<>();
        final List<Throwable> throwables = new CopyOnWriteArrayList<>();

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                                                   Throwable t) {
            lines.add(level + " " + MessageFormatter.basicArrayFormat(pattern, args));
            if (t != null) {
                throwables.add(t);
            }
        }

        @Override
        public boolean isTraceEnabled() {
            return false;
        }

        @Override
        public boolean isDebugEnabled() {
            return false;
        }

        @Override
        public boolean isInfoEnabled() {
            return true;
        }

        @Override
        public boolean isWarnEnabled() {
            return true;
        }

        @Override
        public boolean isErrorEnabled() {
            return true;
        }
    }
}
