package dev.ferry.batch;

import dev.ferry.FerryConfig;

/** Batched writes on embedded H2. */
class H2BatchedWriterTest extends BatchedWriterContract {

    @Override
    FerryConfig.Builder database() {
        return FerryConfig.builder().jdbcUrl("jdbc:h2:mem:writer;DB_CLOSE_DELAY=-1").poolName("h2-writer");
    }
}
