package dev.ferry.sample;

import java.sql.Connection;
import java.sql.Statement;
import javax.sql.DataSource;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/** Creates and fills the sample's table at start, if it is not there. */
@Component
class Schema implements ApplicationRunner {

    private final DataSource dataSource;

    Schema(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public void run(ApplicationArguments args) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS sample_accounts (id bigint PRIMARY KEY, owner text NOT NULL, "
                    + "balance bigint NOT NULL)");
            s.execute("INSERT INTO sample_accounts SELECT g, 'owner-' || g, 1000 FROM generate_series(1, 1000) g "
                    + "ON CONFLICT (id) DO NOTHING");
        }
    }
}
