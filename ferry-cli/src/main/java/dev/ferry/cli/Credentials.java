package dev.ferry.cli;

import java.util.Arrays;
import java.util.Properties;
import picocli.CommandLine.Option;

/** The database user and password options every command that connects shares (a picocli mixin). */
final class Credentials {

    @Option(names = "--user", description = "database user")
    String user;

    @Option(names = "--password-env", paramLabel = "VAR",
            description = "name of the environment variable holding the password (never pass it on the command line)")
    String passwordEnv;

    @Option(names = "--password", interactive = true, arity = "0..1",
            description = "prompt for the password")
    char[] password;

    /** The user and password as JDBC connection properties (the prompted password is wiped after). */
    Properties properties() {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (passwordEnv != null) {
            String value = System.getenv(passwordEnv);
            if (value == null) {
                throw new IllegalArgumentException("--password-env: environment variable " + passwordEnv
                        + " is not set");
            }
            p.setProperty("password", value);
        } else if (password != null) {
            p.setProperty("password", new String(password));
            Arrays.fill(password, ' ');
        }
        return p;
    }
}
