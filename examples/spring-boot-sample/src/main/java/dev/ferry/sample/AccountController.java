package dev.ferry.sample;

import dev.ferry.FerryDataSource;
import dev.ferry.Priority;
import dev.ferry.batch.BatchedLookup;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** The sample's endpoints (see {@link SampleApplication}). */
@RestController
class AccountController {

    private final FerryDataSource dataSource;
    private final BatchedLookup<Long, Account> accounts;

    AccountController(FerryDataSource dataSource, BatchedLookup<Long, Account> accounts) {
        this.dataSource = dataSource;
        this.accounts = accounts;
    }

    /** A point read, batched with whatever other requests are reading at the same moment. */
    @GetMapping("/accounts/{id}")
    Account account(@PathVariable("id") long id) throws InterruptedException, ExecutionException, TimeoutException {
        return accounts.load(id).get(10, TimeUnit.SECONDS)
                .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no account " + id));
    }

    /** A report: in the "reports" lane, capped at 2 connections so reports never starve the rest. */
    @GetMapping("/reports/balance")
    Map<String, Long> totalBalance() throws SQLException {
        try (Connection c = dataSource.lane("reports").getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT count(*), sum(balance) FROM sample_accounts")) {
            rs.next();
            return Map.of("accounts", rs.getLong(1), "balance", rs.getLong(2));
        }
    }

    /** A payment: CRITICAL, so it is served first, and from the reserve when the pool is exhausted. */
    @PostMapping("/payments")
    Map<String, Object> pay(@RequestBody Payment payment) throws SQLException {
        if (payment.amount() <= 0) {
            throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "amount must be positive");
        }
        try (Connection c = dataSource.getConnection(Priority.CRITICAL);
             PreparedStatement ps = c.prepareStatement(
                     "UPDATE sample_accounts SET balance = balance - ? WHERE id = ? AND balance >= ?")) {
            ps.setLong(1, payment.amount());
            ps.setLong(2, payment.account());
            ps.setLong(3, payment.amount());
            if (ps.executeUpdate() != 1) {
                throw new ResponseStatusException(HttpStatus.CONFLICT, "insufficient balance or no such account");
            }
            return Map.of("account", payment.account(), "paid", payment.amount());
        }
    }

    record Payment(long account, long amount) {
    }
}
