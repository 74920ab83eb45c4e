package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** Every invalid setting fails at build time with a message naming the setting, the value and what is allowed. */
class FerryConfigTest {

    private static final String STUB = "dev.ferry.testkit.StubDriver";

    private static FerryConfig.Builder valid() {
        return FerryConfig.builder().jdbcUrl("jdbc:stub:config").driverClassName(STUB);
    }

    private static void rejects(UnaryOperator<FerryConfig.Builder> change, String... fragments) {
        assertThatThrownBy(() -> change.apply(valid()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .message().contains(fragments);
    }

    @Test
    void failoverIsOnWithReplicasOffWithoutAndCannotBeForcedWhereItCannotWork() {
        String pg = "jdbc:postgresql://127.0.0.1:1/app?password=hunter2";
        FerryConfig withReplica = FerryConfig.builder().jdbcUrl(pg).replica("jdbc:postgresql://127.0.0.1:2/app").build();
        assertThat(withReplica.failover()).isTrue();
        assertThat(withReplica.toString()).contains("failover=true").doesNotContain("hunter2");
        assertThat(FerryConfig.builder().jdbcUrl(pg).replica("jdbc:postgresql://127.0.0.1:2/app").failover(false)
                .build().failover()).isFalse();
        assertThat(FerryConfig.builder().jdbcUrl(pg).build().failover()).isFalse();
        assertThat(withReplica.toBuilder().forReplica().build().failover()).as("a replica's own pool").isFalse();
        assertThat(FerryConfig.builder().jdbcUrl(pg).replica("jdbc:postgresql://127.0.0.1:2/app").failover(true)
                .build().toBuilder().forReplica().build().failover()).as("set explicitly, still not on a replica's pool")
                .isFalse();
        rejects(b -> b.failover(true), "failover: got true with no replicas", "allowed:");
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl("jdbc:mariadb://127.0.0.1/app")
                .replica("jdbc:postgresql://127.0.0.1:2/app").failover(true).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("failover: got true with jdbcUrl")
                .hasMessageContaining("PostgreSQL");
    }

    @Test
    void perUserPoolsAreOffByDefaultBoundedByTheBudgetAndNeedAUrlWithoutCredentials() {
        assertThat(valid().build().perUserPoolSize()).isZero();
        FerryConfig on = valid().maximumPoolSize(6).perUserPoolSize(2).build();
        assertThat(on.perUserPoolSize()).isEqualTo(2);
        assertThat(on.maxUserPools()).isEqualTo(8);
        assertThat(on.toString()).contains("perUserPoolSize=2, maxUserPools=8");
        rejects(b -> b.maximumPoolSize(4).perUserPoolSize(5), "perUserPoolSize: got 5", "to maximumPoolSize (4)");
        rejects(b -> b.perUserPoolSize(-1), "perUserPoolSize: got -1");
        rejects(b -> b.maxUserPools(3), "maxUserPools: got 3 with perUserPoolSize 0", "allowed:");
        rejects(b -> b.perUserPoolSize(1).maxUserPools(0), "maxUserPools: got 0", "1 to 10000");
        FerryConfig adapted = valid().perUserPoolSize(12).build();
        assertThat(adapted.maximumPoolSize()).as("the default adapts to the perUserPoolSize set").isEqualTo(12);
        assertThat(adapted.adaptations()).anyMatch(a -> a.contains("perUserPoolSize"));
        for (String url : new String[] {"jdbc:postgresql://127.0.0.1/app?user=postgres",
                "jdbc:postgresql://127.0.0.1/app?ssl=false&password=hunter2", "jdbc:mariadb://app:hunter2@127.0.0.1/app",
                "jdbc:h2:mem:app;USER=sa", "jdbc:postgresql://127.0.0.1/app?USERNAME=x"}) {
            assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl(url).perUserPoolSize(1).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("perUserPoolSize: got 1 with jdbcUrl").hasMessageNotContaining("hunter2");
        }
        for (String url : new String[] {"jdbc:postgresql://127.0.0.1/app", "jdbc:postgresql://h/app?ssl=true",
                "jdbc:postgresql://h/app?ApplicationName=me@host", "jdbc:h2:mem:app;MODE=PostgreSQL"}) {
            assertThat(ConfigResolver.urlNamesCredentials(url)).as(url).isFalse();
        }
        FerryConfig user = on.toBuilder().forUser("p-user-1", "alice", "secret").build();
        assertThat(user.username()).isEqualTo("alice");
        assertThat(user.maximumPoolSize()).isEqualTo(2);
        assertThat(user.minimumIdle()).isZero();
        assertThat(user.perUserPoolSize()).isZero();
        assertThat(user.poolName()).isEqualTo("p-user-1");
        assertThat(user.toString()).doesNotContain("secret");
        java.util.Properties p = new java.util.Properties();
        p.setProperty("jdbcUrl", "jdbc:stub:config");
        p.setProperty("driverClassName", STUB);
        p.setProperty("perUserPoolSize", "3");
        p.setProperty("maxUserPools", "20");
        FerryConfig fromProperties = FerryConfig.builder().properties(p).build();
        assertThat(fromProperties.perUserPoolSize()).isEqualTo(3);
        assertThat(fromProperties.maxUserPools()).isEqualTo(20);
    }

    /** Neither Ferry's interface nor HikariCP's. */
    public static final class NotAProvider {
    }

    /** A getCredentials() of another shape (an AWS-style provider's, say). */
    public static final class OtherShape {
        public String getCredentials() {
            return "token";
        }
    }

    @Test
    void credentialsProviderClassNameFailsAtBuildWhenItCannotWork() {
        rejects(b -> b.credentialsProviderClassName("no.such.Provider"), "credentialsProviderClassName: class "
                + "'no.such.Provider' is not on the classpath");
        rejects(b -> b.credentialsProviderClassName(NotAProvider.class.getName()), "credentialsProviderClassName",
                "implements neither dev.ferry.CredentialsProvider nor HikariCP's HikariCredentialsProvider");
        rejects(b -> b.credentialsProviderClassName(PostgresCredentialsProviderTest.HikariSecretFile.class.getName())
                .credentialsProvider(() -> null), "got both");
        rejects(b -> b.credentialsProviderClassName(PostgresCredentialsProviderTest.HikariSecretFile.class.getName())
                .password("hunter2"), "credentialsProviderClassName: set together with password");
        rejects(b -> b.credentialsProviderClassName(OtherShape.class.getName()), "implements neither");
        FerryConfig built = valid().credentialsProviderClassName(
                PostgresCredentialsProviderTest.HikariSecretFile.class.getName()).build();
        assertThat(built.toBuilder().forReplica().build().credentialsProvider())
                .as("a replica's pool asks the same provider instance").isSameAs(built.credentialsProvider());
        assertThat(built.toBuilder().credentialsProviderClassName(
                PostgresCredentialsProviderTest.HikariSecretFile.class.getName()).build().credentialsProvider())
                .as("named again: a new instance").isNotSameAs(built.credentialsProvider());
    }

    @Test
    void defaultsMatchHikariCp() {
        FerryConfig c = valid().build();
        assertThat(c.maximumPoolSize()).isEqualTo(10);
        assertThat(c.minimumIdle()).isEqualTo(10);
        assertThat(c.connectionTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.maxLifetime()).isEqualTo(Duration.ofMinutes(30));
        assertThat(c.keepaliveTime()).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.validationTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.autoCommit()).isTrue();
        assertThat(c.poolName()).startsWith("ferry-");
        assertThat(c.maxWaiting()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void generatedPoolNamesAreNumberedForTheWholeJvmNotPerClassLoader() {
        synchronized (System.getProperties()) {
            System.setProperty("dev.ferry.pool_number", "41"); // as if another class loader's Ferry had made 41
            assertThat(FerryConfig.builder().jdbcUrl("jdbc:h2:mem:x").build().poolName()).isEqualTo("ferry-42");
            assertThat(System.getProperty("dev.ferry.pool_number")).isEqualTo("42");
        }
        assertThat(FerryConfig.builder().jdbcUrl("jdbc:h2:mem:x").poolName("mine").build().poolName()).isEqualTo("mine");
    }

    @Test
    void minimumIdleAboveMaximum() {
        rejects(b -> b.maximumPoolSize(5).minimumIdle(6), "minimumIdle", "got 6", "at most maximumPoolSize (5)");
    }

    @Test
    void minimumIdleNegative() {
        rejects(b -> b.minimumIdle(-2), "minimumIdle", "got -2", "0 to maximumPoolSize");
    }

    @Test
    void maximumPoolSizeZero() {
        rejects(b -> b.maximumPoolSize(0).minimumIdle(0), "maximumPoolSize", "got 0", "at least 1");
    }

    @Test
    void zeroConnectionTimeoutMeansNoLimitAsInHikariCp() {
        assertThat(valid().connectionTimeout(Duration.ZERO).build().connectionTimeout())
                .isEqualTo(Duration.ofMillis(Integer.MAX_VALUE));
    }

    @Test
    void negativeConnectionTimeout() {
        rejects(b -> b.connectionTimeout(Duration.ofMillis(-5)), "connectionTimeout", "got -5ms",
                "0 (no limit) or a positive duration");
    }

    @Test
    void zeroValidationTimeout() {
        rejects(b -> b.validationTimeout(Duration.ZERO), "validationTimeout", "got 0ms", "a positive duration");
    }

    @Test
    void validationTimeoutAboveConnectionTimeoutIsKeptAsInHikariCp() {
        // Not a contradiction: a validation during a borrow is given at most the borrower's remaining time.
        FerryConfig c = valid().connectionTimeout(Duration.ofSeconds(1)).validationTimeout(Duration.ofSeconds(2))
                .build();
        assertThat(c.validationTimeout()).isEqualTo(Duration.ofSeconds(2));
        FerryConfig shortTimeout = valid().connectionTimeout(Duration.ofMillis(250)).build();
        assertThat(shortTimeout.validationTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(shortTimeout.adaptations()).isEmpty();
    }

    @Test
    void negativeDurations() {
        rejects(b -> b.idleTimeout(Duration.ofMillis(-1)), "idleTimeout", "got -1ms", "0 (disabled)");
        rejects(b -> b.maxLifetime(Duration.ofMillis(-1)), "maxLifetime", "got -1ms", "0 (disabled)");
        rejects(b -> b.keepaliveTime(Duration.ofMillis(-1)), "keepaliveTime", "got -1ms");
        rejects(b -> b.leakDetectionThreshold(Duration.ofMillis(-1)), "leakDetectionThreshold", "got -1ms");
        rejects(b -> b.queryTimeout(Duration.ofSeconds(-1)), "queryTimeout", "got -1000ms");
        rejects(b -> b.shutdownTimeout(Duration.ofSeconds(-1)), "shutdownTimeout", "got -1000ms");
        rejects(b -> b.housekeepingPeriod(Duration.ZERO), "housekeepingPeriod", "got 0ms", "a positive duration");
    }

    @Test
    void idleTimeoutSetNotBelowMaxLifetimeSetIsAContradiction() {
        rejects(b -> b.minimumIdle(2).maxLifetime(Duration.ofMinutes(5)).idleTimeout(Duration.ofMinutes(10)),
                "idleTimeout", "got 600000ms", "less than maxLifetime (300000ms)");
        rejects(b -> b.minimumIdle(2).maxLifetime(Duration.ofSeconds(30)).idleTimeout(Duration.ofMillis(29_001)),
                "idleTimeout", "got 29001ms");
        assertThat(valid().minimumIdle(2).maxLifetime(Duration.ofSeconds(30)).idleTimeout(Duration.ofSeconds(29))
                .build().idleTimeout()).isEqualTo(Duration.ofSeconds(29));
    }

    @Test
    void defaultIdleTimeoutAdaptsToAShortMaxLifetime() {
        FerryConfig c = valid().minimumIdle(0).maxLifetime(Duration.ofMinutes(1)).build();
        assertThat(c.idleTimeout()).isZero();
        assertThat(c.keepaliveTime()).isZero(); // 2 min default is not below 1 min either
        assertThat(c.adaptations()).hasSize(2);
        assertThat(c.adaptations().get(0)).contains("idleTimeout 600000ms -> 0ms (disabled)", "maxLifetime");
        assertThat(c.toString()).contains("adapted=[idleTimeout 600000ms -> 0ms");
    }

    @Test
    void fixedSizePoolKeepsIdleTimeoutAsInHikariCp() {
        // idleTimeout has no effect on a fixed-size pool, so HikariCP keeps the value and so does Ferry.
        FerryConfig c = valid().maxLifetime(Duration.ofMinutes(1)).keepaliveTime(Duration.ZERO).build();
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.adaptations()).isEmpty();
    }

    @Test
    void defaultMaximumPoolSizeRisesToTheMinimumIdleSet() {
        FerryConfig c = valid().minimumIdle(20).build();
        assertThat(c.maximumPoolSize()).isEqualTo(20);
        assertThat(c.adaptations()).singleElement().asString().contains("maximumPoolSize 10 -> 20");
    }

    @Test
    void blankStringsAreUnsetAsInHikariCp() {
        FerryConfig c = valid().connectionInitSql("  ").connectionTestQuery("").catalog(" ").transactionIsolation("")
                .build();
        assertThat(c.connectionInitSql()).isNull();
        assertThat(c.connectionTestQuery()).isNull();
        assertThat(c.catalog()).isNull();
        assertThat(c.transactionIsolation()).isNull();
    }

    @Test
    void oneSourceOfConnections() {
        rejects(b -> b.dataSourceClassName("org.h2.jdbcx.JdbcDataSource"), "jdbcUrl, dataSourceClassName",
                "exactly one");
        assertThatThrownBy(() -> FerryConfig.builder().dataSourceClassName("org.h2.jdbcx.JdbcDataSource")
                .driverClassName(STUB).build()).hasMessageContaining("driverClassName: got '" + STUB + "'");
        assertThatThrownBy(() -> FerryConfig.builder().dataSourceClassName("java.lang.String").build())
                .hasMessageContaining("does not implement javax.sql.DataSource");
        assertThatThrownBy(() -> FerryConfig.builder().dataSourceClassName("org.h2.jdbcx.JdbcDataSource")
                .dataSourceProperty("noSuchThing", "1").build())
                .hasMessageContaining("has no property 'noSuchThing'");
    }

    @Test
    void idleTimeoutAllowedWhenLifetimeUnlimited() {
        assertThat(valid().maxLifetime(Duration.ZERO).idleTimeout(Duration.ofHours(5)).build().idleTimeout())
                .isEqualTo(Duration.ofHours(5));
    }

    @Test
    void keepaliveNotBelowMaxLifetime() {
        rejects(b -> b.maxLifetime(Duration.ofMinutes(1)).idleTimeout(Duration.ofSeconds(30))
                .keepaliveTime(Duration.ofMinutes(2)), "keepaliveTime", "got 120000ms", "less than maxLifetime");
    }

    @Test
    void leakThresholdAboveMaxLifetimeIsKept() {
        // A lent connection is never retired from under its borrower, so the threshold still means something.
        assertThat(valid().maxLifetime(Duration.ofMinutes(1)).keepaliveTime(Duration.ZERO)
                .leakDetectionThreshold(Duration.ofMinutes(2)).build().leakDetectionThreshold())
                .isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void queryTimeoutMustBeWholeSeconds() {
        rejects(b -> b.queryTimeout(Duration.ofMillis(1500)), "queryTimeout", "got 1500ms", "whole number of seconds");
    }

    @Test
    void maxWaitingNegative() {
        rejects(b -> b.maxWaiting(-1), "maxWaiting", "got -1", "0 (never wait) or more");
    }

    @Test
    void missingUrl() {
        assertThatThrownBy(() -> FerryConfig.builder().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("jdbcUrl: got null");
    }

    @Test
    void malformedUrl() {
        rejects(b -> b.jdbcUrl("postgresql://localhost/db"), "jdbcUrl", "malformed URL 'postgresql://localhost/db'",
                "jdbc:<subprotocol>:<details>");
        rejects(b -> b.jdbcUrl("jdbc:"), "jdbcUrl", "malformed URL");
    }

    @Test
    void urlNoDriverAccepts() {
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl("jdbc:nosuchdb://host/db?password=hunter2").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("jdbcUrl: no JDBC driver on the classpath accepts")
                .hasMessageContaining("password=****")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void unknownDriverClass() {
        rejects(b -> b.driverClassName("org.example.NoSuchDriver"), "driverClassName",
                "class 'org.example.NoSuchDriver' is not on the classpath");
    }

    @Test
    void driverClassThatIsNotADriver() {
        rejects(b -> b.driverClassName("java.lang.String"), "driverClassName",
                "'java.lang.String' does not implement java.sql.Driver");
    }

    @Test
    void driverThatRejectsTheUrl() {
        rejects(b -> b.jdbcUrl("jdbc:postgresql://localhost/db"), "jdbcUrl", "driver " + STUB + " does not accept");
    }

    @Test
    void transactionIsolation() {
        assertThat(valid().transactionIsolation("TRANSACTION_SERIALIZABLE").build().transactionIsolation())
                .isEqualTo(java.sql.Connection.TRANSACTION_SERIALIZABLE);
        assertThat(valid().transactionIsolation("read_committed").build().transactionIsolation())
                .isEqualTo(java.sql.Connection.TRANSACTION_READ_COMMITTED);
        assertThat(valid().transactionIsolation("4").build().transactionIsolation())
                .isEqualTo(java.sql.Connection.TRANSACTION_REPEATABLE_READ);
        rejects(b -> b.transactionIsolation("SNAPSHOT"), "transactionIsolation", "got 'SNAPSHOT'",
                "TRANSACTION_READ_COMMITTED");
        rejects(b -> b.transactionIsolation("6"), "transactionIsolation", "got '6'");
        assertThat(valid().transactionIsolation("TRANSACTION_SQL_SERVER_SNAPSHOT_ISOLATION_LEVEL").build()
                .transactionIsolation()).isEqualTo(4096);
    }

    @Test
    void blankPoolName() {
        rejects(b -> b.poolName(" "), "poolName", "blank");
    }

    @Test
    void toStringHidesSecrets() {
        FerryConfig c = valid().jdbcUrl("jdbc:stub:x?user=app&password=hunter2&sslkey=k3y")
                .password("s3cret").dataSourceProperty("password", "pr0p").dataSourceProperty("apiToken", "t0k")
                .build();
        assertThat(c.toString()).doesNotContain("hunter2", "s3cret", "pr0p", "t0k", "k3y")
                .contains("password=****", "user=app");
        assertThat(c.maskedJdbcUrl()).isEqualTo("jdbc:stub:x?user=app&password=****&sslkey=****");
    }

    @Test
    void maskUrlUserInfoAndSemicolonOptions() {
        assertThat(Secrets.maskUrl("jdbc:mysql://app:hunter2@db:3306/x")).isEqualTo("jdbc:mysql://app:****@db:3306/x");
        assertThat(Secrets.maskUrl("jdbc:h2:mem:x;USER=sa;PASSWORD=hunter2")).isEqualTo("jdbc:h2:mem:x;USER=sa;PASSWORD=****");
    }

    @Test
    void maskUrlOtherForms() {
        assertThat(Secrets.maskUrl("jdbc:oracle:thin:scott/tiger@//db:1521/svc"))
                .isEqualTo("jdbc:oracle:thin:scott/****@//db:1521/svc");
        assertThat(Secrets.maskUrl("jdbc:mysql://(host=h,user=u,password=p4ss)/db"))
                .isEqualTo("jdbc:mysql://(host=h,user=u,password=****)/db");
        assertThat(Secrets.maskUrl("jdbc:postgresql://u:p@ss@h/db")).isEqualTo("jdbc:postgresql://u:****@h/db");
    }

    @Test
    void urlValuedDataSourcePropertiesAreMasked() {
        FerryConfig c = FerryConfig.builder().dataSourceClassName("org.h2.jdbcx.JdbcDataSource")
                .dataSourceProperty("URL", "jdbc:h2:mem:x;USER=sa;PASSWORD=hunter2").build();
        assertThat(c.toString()).doesNotContain("hunter2").contains("PASSWORD=****");
        assertThatThrownBy(() -> FerryConfig.builder().dataSourceClassName("org.postgresql.ds.PGSimpleDataSource")
                .dataSourceProperty("url", "jdbc:nonsense://h/db?password=hunter2").build())
                .isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> {
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        assertThat(String.valueOf(t.getMessage())).doesNotContain("hunter2");
                    }
                });
    }

    @Test
    void toBuilderKeepsWhatTheUserLeftUnset() {
        FerryConfig c = valid().build(); // minimumIdle defaults to maximumPoolSize (10)
        FerryConfig smaller = c.toBuilder().maximumPoolSize(5).build();
        assertThat(smaller.minimumIdle()).isEqualTo(5);
        FerryConfig fromClassName = FerryConfig.builder().dataSourceClassName("org.h2.jdbcx.JdbcDataSource")
                .dataSourceProperty("URL", "jdbc:h2:mem:tb").build();
        assertThat(fromClassName.toBuilder().maximumPoolSize(3).build().dataSource())
                .isNotSameAs(fromClassName.dataSource());
    }

    @Test
    void toBuilderRoundTrips() {
        FerryConfig c = valid().maximumPoolSize(7).minimumIdle(2).queryTimeout(Duration.ofSeconds(3))
                .transactionIsolation("SERIALIZABLE").build();
        FerryConfig copy = c.toBuilder().build();
        assertThat(copy.maximumPoolSize()).isEqualTo(7);
        assertThat(copy.minimumIdle()).isEqualTo(2);
        assertThat(copy.queryTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(copy.transactionIsolation()).isEqualTo(c.transactionIsolation());
        assertThat(copy.poolName()).isEqualTo(c.poolName());
    }

    @org.junit.jupiter.api.Test
    void everyListedPropertyNameIsKnownAndOthersAreUnknown() {
        for (String key : FerryConfig.propertyNames()) {
            java.util.Properties p = new java.util.Properties();
            p.setProperty(key, "x");
            try {
                FerryConfig.builder().properties(p);
            } catch (UnknownSettingException e) {
                throw new AssertionError(key + " is listed but not known", e);
            } catch (IllegalArgumentException badValue) {
                // known, and "x" is not a valid value for it
            }
        }
        java.util.Properties unknown = new java.util.Properties();
        unknown.setProperty("healthCheckRegistry", "x");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FerryConfig.builder().properties(unknown))
                .isInstanceOf(UnknownSettingException.class).hasMessageContaining("healthCheckRegistry");
    }
}
