package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryConfig;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Batched lookups on embedded H2: IN lists padded to powers of two. */
class H2BatchedLookupTest extends BatchedLookupContract {

    @Override
    FerryConfig.Builder database() {
        return FerryConfig.builder().jdbcUrl("jdbc:h2:mem:lookup;DB_CLOSE_DELAY=-1").poolName("h2-lookup");
    }

    @Test
    void inListsArePaddedToAFewFixedSizes() throws Exception {
        try (BatchedLookup<Long, User> users = users()) {
            for (int round = 0; round < 5; round++) {
                CompletableFuture<?>[] all = new CompletableFuture<?>[37];
                for (int i = 0; i < all.length; i++) {
                    all[i] = users.load((long) (round * 100 + i + 1));
                }
                CompletableFuture.allOf(all).get(10, TimeUnit.SECONDS);
            }
            assertThat(counting.sqlTexts).allSatisfy(sql -> {
                int params = (int) sql.chars().filter(ch -> ch == '?').count();
                assertThat(Integer.bitCount(params)).as("power of two: %s", sql).isEqualTo(1);
            });
            assertThat(counting.sqlTexts.size()).isLessThanOrEqualTo(8); // 1, 2, 4, ..., 128 at most
        }
    }
}
