package org.wso2.carbon.synthetic;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the membership scheme named by axis2.xml's membershipSchemeClassName, loaded from the jars in
 * repository/components/lib and dropins (as Carbon makes them visible), and keeps what it finds for
 * /cluster/members. The scheme reads its own parameters; this class only polls it, so members that join
 * later are seen (the real scheme learns them from Hazelcast).
 */
final class KubernetesMembership {
    static final String LOG = "org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme";
    static final String CLASS_PARAMETER = "membershipSchemeClassName";

    /** What /cluster/members reports; replaced as a whole so readers never see a half update. */
    static final class Snapshot {
        final List<String> members;
        final String lastError;
        final Instant updatedAt;

        Snapshot(List<String> members, String lastError, Instant updatedAt) {
            this.members = members;
            this.lastError = lastError;
            this.updatedAt = updatedAt;
        }
    }

    private final Path home;
    private final Map<String, String> params;
    private final long intervalMs;
    private final String logName;
    private MembershipScheme scheme;
    private volatile Snapshot snapshot = new Snapshot(List.of(), null, null);
    private ScheduledExecutorService scheduler;
    private String lastLoggedError;
    private long lastLoggedAt;

    KubernetesMembership(Path home, Map<String, String> params) {
        this.home = home;
        this.params = params;
        this.intervalMs = Long.getLong("kubernetes.membership.interval.ms", 3000L);
        String cls = params.get(CLASS_PARAMETER);
        this.logName = cls == null || cls.isEmpty() ? LOG : cls;
    }

    Snapshot snapshot() {
        return snapshot;
    }

    /** The scheme's view of its configuration; empty until it was initialised. */
    Map<String, Object> describe() {
        return scheme == null ? Map.of() : scheme.describe();
    }

    void start() {
        try {
            scheme = load();
            scheme.init(params, new MembershipScheme.Log() {
                @Override
                public void info(String message) {
                    CarbonLog.info(logName, message);
                }

                @Override
                public void warn(String message) {
                    CarbonLog.warn(logName, message);
                }

                @Override
                public void error(String message) {
                    CarbonLog.error(logName, message);
                }
            });
        } catch (Exception | LinkageError e) {
            // As Carbon: the clustering agent fails (ClusteringFault), the server keeps running alone.
            scheme = null;
            fail("Kubernetes membership initialization failed: " + message(e));
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kubernetes-membership");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::poll, 0, intervalMs, TimeUnit.MILLISECONDS);
    }

    void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    private MembershipScheme load() throws Exception {
        String cls = params.get(CLASS_PARAMETER);
        if (cls == null || cls.isEmpty()) {
            throw new IllegalStateException("axis2.xml sets membershipScheme kubernetes but no " + CLASS_PARAMETER
                    + " parameter");
        }
        List<URL> jars = new ArrayList<>();
        for (String dir : new String[] {"repository/components/lib", "repository/components/dropins"}) {
            Path d = home.resolve(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> files = Files.list(d)) {
                for (Path jar : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".jar")).sorted()::iterator) {
                    jars.add(toUrl(jar));
                }
            }
        }
        ClassLoader loader = new URLClassLoader(jars.toArray(new URL[0]), KubernetesMembership.class.getClassLoader());
        Class<?> c;
        try {
            c = Class.forName(cls, true, loader);
        } catch (ClassNotFoundException e) {
            throw new ClassNotFoundException(cls + " is in no jar of repository/components/lib or dropins ("
                    + jars.size() + " jars): add the membership scheme jar");
        }
        Object instance = c.getDeclaredConstructor().newInstance();
        if (!(instance instanceof MembershipScheme)) {
            throw new IllegalStateException(cls + " is not a membership scheme of this (synthetic) server");
        }
        return (MembershipScheme) instance;
    }

    private static URL toUrl(Path jar) throws IOException {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IOException(e);
        }
    }

    private void poll() {
        try {
            publish(new ArrayList<>(new TreeSet<>(scheme.resolve())));
        } catch (Exception | LinkageError e) {
            fail(message(e));
        }
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        if (e instanceof LinkageError || m == null || m.isEmpty()) {
            return e.toString();
        }
        return m;
    }

    private void publish(List<String> members) {
        Snapshot old = snapshot;
        if (old.updatedAt == null) {
            CarbonLog.info(LOG, "Kubernetes membership: members: " + members);
        } else {
            for (String ip : members) {
                if (!old.members.contains(ip)) {
                    CarbonLog.info(LOG, "Member joined: " + ip);
                }
            }
            for (String ip : old.members) {
                if (!members.contains(ip)) {
                    CarbonLog.info(LOG, "Member left: " + ip);
                }
            }
        }
        if (old.lastError != null) {
            CarbonLog.info(LOG, "Kubernetes membership: members found again");
        }
        lastLoggedError = null;
        snapshot = new Snapshot(List.copyOf(members), null, Instant.now());
    }

    /** Records the error; keeps the last known members, like Hazelcast keeps its member list. */
    private void fail(String message) {
        Snapshot old = snapshot;
        snapshot = new Snapshot(old.members, message, old.updatedAt);
        long now = System.currentTimeMillis();
        // Log each new error, and a repeated one once a minute, to keep the log readable.
        if (!message.equals(lastLoggedError) || now - lastLoggedAt > 60_000) {
            CarbonLog.error(LOG, message);
            lastLoggedError = message;
            lastLoggedAt = now;
        }
    }
}
