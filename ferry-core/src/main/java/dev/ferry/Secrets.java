package dev.ferry;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Keeps passwords and tokens out of messages: every URL or property shown to a person passes through here. */
final class Secrets {

    static final String MASK = "****";

    /** {@code key=value} pairs in a URL's query or a driver's {@code ;}-separated options. */
    private static final Pattern URL_PARAM = Pattern.compile("([?&;:]\\s*)([^=&;?/\\s]+)(\\s*=\\s*)([^&;]*)");

    /** MySQL's {@code (host=h,user=u,password=p)} address form: values end at {@code ,} or {@code )}. */
    private static final Pattern PAREN_PARAM = Pattern.compile("([(,]\\s*)([^=(),\\s]+)(\\s*=\\s*)([^,)]*)");

    /** {@code //user:password@host}; the password may itself contain {@code @}, so up to the last one. */
    private static final Pattern USER_INFO = Pattern.compile("(//[^/@:?;]*:)([^/]*)(@)");

    /** Oracle's thin form, {@code jdbc:oracle:thin:user/password@host}. */
    private static final Pattern ORACLE_THIN = Pattern.compile("(:thin:[^/@:]+/)([^/]*)(@)");

    private Secrets() {
    }

    /** Whether a property or parameter name names a secret. */
    static boolean isSecretKey(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("passwd") || k.equals("pwd") || k.contains("secret")
                || k.contains("token") || k.contains("credential") || k.endsWith("key") || k.contains("sslkey");
    }

    /** The URL with every secret value replaced by {@value #MASK}. Null stays null. */
    static String maskUrl(String url) {
        if (url == null) {
            return null;
        }
        String masked = USER_INFO.matcher(url).replaceAll("$1" + MASK + "$3");
        masked = ORACLE_THIN.matcher(masked).replaceAll("$1" + MASK + "$3");
        masked = maskParams(PAREN_PARAM, masked);
        return maskParams(URL_PARAM, masked);
    }

    private static String maskParams(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = isSecretKey(m.group(2))
                    ? m.group(1) + m.group(2) + m.group(3) + MASK
                    : m.group(0);
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A property's value as it may be shown: masked if its key names a secret, URLs with their secrets masked. */
    static String shown(String key, Object value) {
        if (isSecretKey(key)) {
            return MASK;
        }
        String v = String.valueOf(value);
        return key.toLowerCase(Locale.ROOT).contains("url") || v.startsWith("jdbc:") ? maskUrl(v) : v;
    }
}
