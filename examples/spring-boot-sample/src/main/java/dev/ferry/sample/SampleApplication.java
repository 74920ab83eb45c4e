package dev.ferry.sample;

import dev.ferry.FerryDataSource;
import dev.ferry.batch.BatchedLookup;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A small account service: {@code GET /accounts/{id}} reads through a batched lookup (concurrent requests share
 * round trips), {@code GET /reports/balance} runs in the capped "reports" lane, and {@code POST /payments} takes
 * its connection as a CRITICAL caller (the emergency reserve is there for it when the pool is full). The pool is
 * Ferry, configured in application.properties; the starter does the rest.
 */
@SpringBootApplication
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }

    /** One bean per batched lookup; it shares the pool's connections with everything else. */
    @Bean(destroyMethod = "close")
    BatchedLookup<Long, Account> accounts(FerryDataSource dataSource) {
        return dataSource.<Long, Account>batchedLookup(Long.class).name("accounts")
                .sql("SELECT id, owner, balance FROM sample_accounts WHERE id IN (:keys)")
                .key(rs -> rs.getLong("id"))
                .row(rs -> new Account(rs.getLong("id"), rs.getString("owner"), rs.getLong("balance")))
                .build();
    }
}
