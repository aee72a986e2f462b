package org.xbill.DNS;

import java.util.ArrayList;
import java.util.List;

/**
 * The name servers to ask: the dns.server system property (comma-separated host[:port], as dnsjava reads it),
 * else the system's (/etc/resolv.conf, through the JDK). Lookups go through the JDK's DNS provider
 * (module jdk.naming.dns); the real dnsjava speaks the protocol itself.
 */
public class ExtendedResolver {
    private int timeoutSeconds = 10;
    private final List<String> servers = new ArrayList<>();

    public ExtendedResolver() {
        String prop = System.getProperty("dns.server");
        if (prop != null) {
            for (String s : prop.split(",")) {
                if (!s.trim().isEmpty()) {
                    servers.add(s.trim());
                }
            }
        }
    }

    public void setTimeout(int seconds) {
        timeoutSeconds = seconds;
    }

    int timeoutSeconds() {
        return timeoutSeconds;
    }

    /** The JNDI provider URL: "dns://host:port ..." or null for the system's servers. */
    String providerUrl() {
        if (servers.isEmpty()) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        for (String s : servers) {
            b.append(b.length() == 0 ? "" : " ").append("dns://").append(s);
        }
        return b.toString();
    }
}
