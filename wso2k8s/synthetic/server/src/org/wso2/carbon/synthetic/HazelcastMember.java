package org.wso2.carbon.synthetic;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.TcpIpConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.Member;
import com.hazelcast.core.MemberAttributeEvent;
import com.hazelcast.core.MembershipEvent;
import com.hazelcast.core.MembershipListener;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The member's Hazelcast instance, set up as Carbon 4.4's HazelcastClusteringAgent does (carbon-kernel 4.4.3,
 * Hazelcast 3.5.2): group name = the clustering domain, the port = axis2.xml's localMemberPort (default 4000),
 * public address = localMemberHost or the pod IP, Carbon's four property defaults, then
 * repository/conf/hazelcast.properties over them. Joining is TCP-IP with the IPs the membership scheme found, as
 * the Kubernetes membership scheme's init() adds them to the TcpIpConfig. IPs the scheme finds later are added
 * too, so Hazelcast's split-brain check can merge members that started alone.
 *
 * The jar is repository/components/plugins/hazelcast_*.jar of the pack (bin/wso2server.sh puts it on the class
 * path, where OSGi wires it for the real server). Hazelcast's own log goes to the Carbon log, as Carbon's log4j
 * does.
 */
final class HazelcastMember {
    static final String LOG = "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent";
    private static final long FIRST_LOOKUP_WAIT_MS = Long.getLong("hazelcast.first.lookup.wait.ms", 30_000L);

    /** What /cluster/members reports of Hazelcast. */
    static final class State {
        final String status;  // starting | joined | failed | stopped
        final List<String> members;  // "ip:port" as Hazelcast's member list says, this member first
        final String error;

        State(String status, List<String> members, String error) {
            this.status = status;
            this.members = members;
            this.error = error;
        }
    }

    private final Path home;
    private final String domain;
    private final Map<String, String> params;
    private final String selfIp;
    private final Supplier<List<String>> schemeMembers;
    private volatile HazelcastInstance instance;
    private volatile State state = new State("starting", List.of(), null);
    private volatile boolean stopping;
    private Thread starter;
    private TcpIpConfig tcpIp;

    HazelcastMember(Path home, String domain, Map<String, String> params, String selfIp,
                    Supplier<List<String>> schemeMembers) {
        this.home = home;
        this.domain = domain;
        this.params = params;
        this.selfIp = selfIp;
        this.schemeMembers = schemeMembers;
    }

    State state() {
        return state;
    }

    int port() {
        String p = params.get("localMemberPort");
        return p == null || p.isBlank() ? 4000 : Integer.parseInt(p.trim());
    }

    /** Starts in the background: Hazelcast's join takes seconds, the connectors need not wait for it. */
    void start() {
        starter = new Thread(this::run, "hazelcast-start");
        starter.setDaemon(true);
        starter.start();
    }

    private void run() {
        try {
            Config config = config(firstMembers());
            long t0 = System.currentTimeMillis();
            HazelcastInstance hz = Hazelcast.newHazelcastInstance(config);
            if (stopping) {
                hz.shutdown();
                return;
            }
            instance = hz;
            CarbonLog.info(LOG, "Hazelcast initialized in " + (System.currentTimeMillis() - t0) + "ms");
            hz.getCluster().addMembershipListener(new MembershipListener() {
                @Override
                public void memberAdded(MembershipEvent e) {
                    CarbonLog.info(LOG, "Member joined [" + e.getMember().getUuid() + "]: " + address(e.getMember()));
                    refresh();
                }

                @Override
                public void memberRemoved(MembershipEvent e) {
                    CarbonLog.info(LOG, "Member left [" + e.getMember().getUuid() + "]: " + address(e.getMember()));
                    refresh();
                }

                @Override
                public void memberAttributeChanged(MemberAttributeEvent e) {
                    // Carbon keeps no member attributes
                }
            });
            Member local = hz.getCluster().getLocalMember();
            CarbonLog.info(LOG, "Local member: [" + local.getUuid() + "] - Host:" + local.getSocketAddress()
                    .getAddress().getHostAddress() + ", Port: " + local.getSocketAddress().getPort()
                    + ", Domain: " + domain);
            refresh();
            watchScheme();
        } catch (RuntimeException | LinkageError e) {
            // As Carbon: the clustering agent fails, the server keeps running alone.
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            if (e.getCause() != null && e.getCause() != e) {  // e.g. BindException: Permission denied
                message += " (" + e.getCause() + ")";
            }
            state = new State("failed", List.of(), "Hazelcast could not start on port " + port() + ": " + message);
            CarbonLog.error(LOG, state.error);
        }
    }

    /** The scheme's first answer (the Kubernetes scheme resolves its members in init()). */
    private List<String> firstMembers() {
        long deadline = System.currentTimeMillis() + FIRST_LOOKUP_WAIT_MS;
        List<String> found = schemeMembers.get();
        while (!found.contains(selfIp) && System.currentTimeMillis() < deadline && !stopping) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            found = schemeMembers.get();
        }
        return found;
    }

    private Config config(List<String> members) {
        Config config = new Config();
        config.setProperties(properties());
        config.setInstanceName(domain + ".instance");
        config.getGroupConfig().setName(domain);
        NetworkConfig nw = config.getNetworkConfig();
        String param = params.get("localMemberHost");
        String host = param == null || param.isBlank() ? selfIp : param.trim();
        // Carbon sets the public address without a port, and Hazelcast 3.5 then announces port 0 where the
        // picked address has none; with the port, and no auto-increment, every member is where the others look.
        nw.setPublicAddress(host + ":" + port());
        nw.setPort(port());
        nw.setPortAutoIncrement(false);
        JoinConfig join = nw.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAwsConfig().setEnabled(false);
        tcpIp = join.getTcpIpConfig().setEnabled(true);
        for (String ip : members) {
            tcpIp.addMember(ip);
        }
        CarbonLog.info(LOG, "Hazelcast TCP-IP members from the membership scheme: " + members + " (port " + port()
                + ")");
        return config;
    }

    private Properties properties() {
        Properties p = new Properties();
        // Carbon's own defaults (HazelcastClusteringAgent.setHazelcastProperties) ...
        p.setProperty("hazelcast.max.no.heartbeat.seconds", "600");
        p.setProperty("hazelcast.max.no.master.confirmation.seconds", "900");
        p.setProperty("hazelcast.merge.first.run.delay.seconds", "60");
        p.setProperty("hazelcast.merge.next.run.delay.seconds", "30");
        // ... and the synthetic server's: no call home, shut down by the server's own hook, log to the Carbon log.
        p.setProperty("hazelcast.version.check.enabled", "false");
        // Its health monitor reads com.sun.management by reflection, which Java 9+ refuses (a stack trace a minute).
        p.setProperty("hazelcast.health.monitoring.level", "OFF");
        p.setProperty("hazelcast.shutdownhook.enabled", "false");
        p.setProperty("hazelcast.logging.type", "jdk");
        Path file = home.resolve("repository/conf/hazelcast.properties");
        if (Files.isRegularFile(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            } catch (IOException e) {
                CarbonLog.error(LOG, "Cannot load properties from file " + file + ": " + e.getMessage());
            }
        }
        return p;
    }

    /** IPs the scheme finds after the start become TCP-IP members too (Hazelcast re-reads them when merging). */
    private void watchScheme() {
        Thread t = new Thread(() -> {
            while (!stopping) {
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    return;
                }
                List<String> known = tcpIp.getMembers();
                for (String ip : schemeMembers.get()) {
                    if (!known.contains(ip)) {
                        synchronized (tcpIp) {
                            tcpIp.addMember(ip);
                        }
                    }
                }
                refresh();
            }
        }, "hazelcast-scheme-watch");
        t.setDaemon(true);
        t.start();
    }

    private void refresh() {
        HazelcastInstance hz = instance;
        if (hz == null || stopping) {
            return;
        }
        try {
            Set<Member> members = hz.getCluster().getMembers();
            List<String> out = new ArrayList<>();
            TreeSet<String> others = new TreeSet<>();
            for (Member m : members) {
                if (m.localMember()) {
                    out.add(address(m));
                } else {
                    others.add(address(m));
                }
            }
            out.addAll(others);
            state = new State("joined", List.copyOf(out), null);
        } catch (RuntimeException e) {
            // the instance is shutting down
        }
    }

    private static String address(Member m) {
        return m.getSocketAddress().getAddress().getHostAddress() + ":" + m.getSocketAddress().getPort();
    }

    void stop() {
        stopping = true;
        HazelcastInstance hz = instance;
        if (hz != null) {
            CarbonLog.info(LOG, "Leaving the Hazelcast cluster");
            hz.shutdown();
        }
        state = new State("stopped", List.of(), null);
    }

    /** Hazelcast's java.util.logging records, written to the Carbon log under the logger's name. */
    private static Logger hazelcastLogger;  // held: java.util.logging keeps loggers only weakly

    static synchronized void routeLogging() {
        if (hazelcastLogger != null) {
            return;
        }
        Logger root = Logger.getLogger("com.hazelcast");
        hazelcastLogger = root;
        root.setUseParentHandlers(false);
        root.setLevel(Level.INFO);
        root.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() < Level.INFO.intValue()) {
                    return;
                }
                String msg = r.getMessage() + (r.getThrown() == null ? "" : " (" + r.getThrown() + ")");
                if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    CarbonLog.error(r.getLoggerName(), msg);
                } else if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    CarbonLog.warn(r.getLoggerName(), msg);
                } else {
                    CarbonLog.info(r.getLoggerName(), msg);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }
}
