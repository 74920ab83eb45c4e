package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RunResultTest {

    @ParameterizedTest(name = "{0} of {1} succeeded: {2}%")
    @CsvSource({
        "15000, 15000, 100.0",
        "14998, 15000, 99.98",   // 2 failures in 15,000: never 100.0
        "14999, 15000, 99.993",  // 1 in 15,000: the decimals it takes to show it
        "999999, 1000000, 99.9999",
        "9999999, 10000000, 99.9999", // rarer than 4 decimals can show: still below 100
        "995, 1000, 99.5",
        "999, 1000, 99.9",
        "499999, 500000, 99.9998", // in doubles, 99.9998 * 10^4 floors to 999,997
        "1, 3, 33.3",
        "0, 5, 0.0",
    })
    void successShowsAnyFailure(long succeeded, long requests, String shown) {
        assertThat(RunResult.successText(succeeded, requests)).isEqualTo(shown);
    }

    @Test
    void noRequestsHaveNoRate() {
        assertThat(RunResult.successText(0, 0)).isEqualTo("-");
    }
}
