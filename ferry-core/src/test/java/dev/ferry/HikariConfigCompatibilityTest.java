package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every configuration in the table is applied, through the same JavaBean setters, to HikariCP 7's
 * {@link HikariConfig} (then {@code validate()}) and to a {@link FerryDataSource} (then started, on an embedded
 * H2 database). Both must start, and every effective value must be the same, except the differences each row
 * names; each such difference is a row of README's migration table.
 */
class HikariConfigCompatibilityTest {

    private static final AtomicInteger DB = new AtomicInteger();

    /** The effective values compared, by getter name on both classes. */
    private static final List<String> COMPARED = List.of("MaximumPoolSize", "MinimumIdle", "ConnectionTimeout",
            "ValidationTimeout", "IdleTimeout", "MaxLifetime", "KeepaliveTime", "LeakDetectionThreshold",
            "InitializationFailTimeout", "AutoCommit", "ReadOnly", "Catalog", "Schema", "ConnectionInitSql",
            "ConnectionTestQuery", "AllowPoolSuspension");

    static Stream<Arguments> configurations() {
        return Stream.of(
                row("defaults", Map.of()),
                // Short connection timeouts, as users set them.
                row("connectionTimeout 250", Map.of("connectionTimeout", "250")),
                row("connectionTimeout 1000", Map.of("connectionTimeout", "1000")),
                row("connectionTimeout 2000", Map.of("connectionTimeout", "2000")),
                row("connectionTimeout 3000", Map.of("connectionTimeout", "3000")),
                row("connectionTimeout 0 (no limit)", Map.of("connectionTimeout", "0")),
                row("validationTimeout above connectionTimeout",
                        Map.of("connectionTimeout", "500", "validationTimeout", "1000")),
                row("validationTimeout 250", Map.of("validationTimeout", "250")),
                row("validationTimeout equal to connectionTimeout",
                        Map.of("connectionTimeout", "30000", "validationTimeout", "30000")),
                // minimumIdle 0 and 1, pools of 1.
                row("minimumIdle 0", Map.of("minimumIdle", "0")),
                row("minimumIdle 1", Map.of("minimumIdle", "1")),
                row("minimumIdle 0, connectionTimeout 1000", Map.of("minimumIdle", "0", "connectionTimeout", "1000")),
                row("maximumPoolSize 1", Map.of("maximumPoolSize", "1")),
                row("maximumPoolSize 1, minimumIdle 0", Map.of("maximumPoolSize", "1", "minimumIdle", "0")),
                row("maximumPoolSize 50, minimumIdle 5", Map.of("maximumPoolSize", "50", "minimumIdle", "5")),
                // Lifetimes and idle timeouts.
                row("maxLifetime 60000 alone", Map.of("maxLifetime", "60000")),
                row("maxLifetime 60000, minimumIdle 0", Map.of("maxLifetime", "60000", "minimumIdle", "0")),
                row("maxLifetime 600000, minimumIdle 2", Map.of("maxLifetime", "600000", "minimumIdle", "2")),
                row("maxLifetime 0 (forever)", Map.of("maxLifetime", "0")),
                row("idleTimeout 0, minimumIdle 0", Map.of("idleTimeout", "0", "minimumIdle", "0")),
                row("idleTimeout 30000, 5 of 20", Map.of("idleTimeout", "30000", "minimumIdle", "5",
                        "maximumPoolSize", "20")),
                row("idleTimeout above the default maxLifetime",
                        Map.of("idleTimeout", "1900000", "minimumIdle", "2")),
                row("keepaliveTime 60000", Map.of("keepaliveTime", "60000")),
                row("keepaliveTime 0", Map.of("keepaliveTime", "0")),
                row("keepaliveTime equal to the default maxLifetime", Map.of("keepaliveTime", "1800000")),
                row("leakDetectionThreshold 60000", Map.of("leakDetectionThreshold", "60000")),
                row("leakDetectionThreshold 2000", Map.of("leakDetectionThreshold", "2000")),
                // Spring Boot's common spring.datasource.hikari.* settings.
                row("Spring Boot: typical service", Map.of("maximumPoolSize", "10", "minimumIdle", "10",
                        "connectionTimeout", "20000", "idleTimeout", "300000", "maxLifetime", "1200000")),
                row("Spring Boot: elastic pool", Map.of("maximumPoolSize", "20", "minimumIdle", "5",
                        "idleTimeout", "300000", "maxLifetime", "1200000", "keepaliveTime", "300000")),
                row("Spring Boot: short timeouts", Map.of("connectionTimeout", "2000", "validationTimeout", "1000",
                        "maxLifetime", "300000", "minimumIdle", "2", "idleTimeout", "60000")),
                row("Spring Boot: empty init SQL", Map.of("connectionInitSql", "", "connectionTestQuery", " ")),
                // HikariCP's documented examples and other settings.
                row("autoCommit off", Map.of("autoCommit", "false")),
                row("readOnly", Map.of("readOnly", "true")),
                row("catalog and schema", Map.of("catalog", "APP", "schema", "PUBLIC")),
                row("transactionIsolation", Map.of("transactionIsolation", "TRANSACTION_READ_COMMITTED")),
                row("connectionTestQuery", Map.of("connectionTestQuery", "SELECT 1")),
                row("connectionInitSql", Map.of("connectionInitSql", "SELECT 1")),
                row("initializationFailTimeout -1, minimumIdle 0",
                        Map.of("initializationFailTimeout", "-1", "minimumIdle", "0")),
                row("initializationFailTimeout 0", Map.of("initializationFailTimeout", "0")),
                row("initializationFailTimeout 5000", Map.of("initializationFailTimeout", "5000")),
                row("allowPoolSuspension", Map.of("allowPoolSuspension", "true")),
                row("poolName", Map.of("poolName", "orders-db")),
                // Where Ferry keeps the value the user set (README's migration table says why).
                row("maxLifetime 10000 (HikariCP: 30 min)", Map.of("maxLifetime", "10000", "minimumIdle", "1"),
                        Map.of("MaxLifetime", "10000", "KeepaliveTime", "0", "IdleTimeout", "0")),
                row("keepaliveTime 10000 (HikariCP: off)", Map.of("keepaliveTime", "10000"),
                        Map.of("KeepaliveTime", "10000")),
                row("leakDetectionThreshold 1000 (HikariCP: off)", Map.of("leakDetectionThreshold", "1000"),
                        Map.of("LeakDetectionThreshold", "1000")),
                row("idleTimeout 5000 (HikariCP: 10 min)", Map.of("idleTimeout", "5000", "minimumIdle", "2"),
                        Map.of("IdleTimeout", "5000")),
                row("minimumIdle 20 alone (HikariCP: 10 of 10)", Map.of("minimumIdle", "20"),
                        Map.of("MaximumPoolSize", "20", "MinimumIdle", "20")));
    }

    private static Arguments row(String name, Map<String, String> settings) {
        return row(name, settings, Map.of());
    }

    private static Arguments row(String name, Map<String, String> settings, Map<String, String> ferryDiffers) {
        return Arguments.of(name, settings, ferryDiffers);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void sameEffectiveValuesAsHikariCp(String name, Map<String, String> settings, Map<String, String> ferryDiffers)
            throws Exception {
        String url = "jdbc:h2:mem:compat" + DB.incrementAndGet() + ";DB_CLOSE_DELAY=-1";
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(url);
        apply(hikari, settings);
        hikari.validate();

        FerryDataSource ferry = new FerryDataSource();
        ferry.setJdbcUrl(url);
        apply(ferry, settings);
        ferry.start();
        compare(name, hikari, ferry, ferryDiffers);
    }

    /** The same rows as a HikariCP properties file: {@code new HikariConfig(props)} against Ferry's reader. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void samePropertiesFileGivesTheSameValues(String name, Map<String, String> settings,
                                              Map<String, String> ferryDiffers) throws Exception {
        Properties props = new Properties();
        props.setProperty("jdbcUrl", "jdbc:h2:mem:props" + DB.incrementAndGet() + ";DB_CLOSE_DELAY=-1");
        props.putAll(settings);
        HikariConfig hikari = new HikariConfig(props);
        hikari.validate();
        // The constructor starts the pool at once, as new HikariDataSource(config) does.
        FerryDataSource ferry = new FerryDataSource(FerryConfig.builder().properties(props).build());
        compare(name, hikari, ferry, ferryDiffers);
    }

    private static void compare(String name, HikariConfig hikari, FerryDataSource ferry,
                                Map<String, String> ferryDiffers) throws Exception {
        try (ferry) {
            try (var c = ferry.getConnection()) {
                assertThat(c.isValid(1)).isTrue();
            }
            Map<String, String> expected = new LinkedHashMap<>();
            Map<String, String> actual = new LinkedHashMap<>();
            for (String property : COMPARED) {
                expected.put(property, ferryDiffers.getOrDefault(property, read(hikari, property)));
                actual.put(property, read(ferry, property));
            }
            assertThat(actual).as(name).isEqualTo(expected);
            if (!ferryDiffers.isEmpty() || !ferry.unwrap(FerryConfig.class).adaptations().isEmpty()) {
                assertThat(ferry.unwrap(FerryConfig.class).toString()).as("adaptations are shown in toString")
                        .matches(ferry.unwrap(FerryConfig.class).adaptations().isEmpty() ? ".*" : ".*adapted=.*");
            }
        }
    }

    private static void apply(Object target, Map<String, String> settings) throws Exception {
        for (Map.Entry<String, String> e : settings.entrySet()) {
            String setter = "set" + Character.toUpperCase(e.getKey().charAt(0)) + e.getKey().substring(1);
            Method m = find(target.getClass(), setter);
            Class<?> type = m.getParameterTypes()[0];
            String v = e.getValue();
            Object arg = type == int.class ? Integer.valueOf(v) : type == long.class ? Long.valueOf(v)
                    : type == boolean.class ? Boolean.valueOf(v) : v;
            m.invoke(target, arg);
        }
    }

    private static Method find(Class<?> type, String name) {
        for (Method m : type.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == 1) {
                return m;
            }
        }
        throw new AssertionError(type.getSimpleName() + " has no setter " + name);
    }

    private static String read(Object target, String property) throws Exception {
        Method getter;
        try {
            getter = target.getClass().getMethod("get" + property);
        } catch (NoSuchMethodException e) {
            getter = target.getClass().getMethod("is" + property);
        }
        Object value = getter.invoke(target);
        return String.valueOf(value);
    }
}
