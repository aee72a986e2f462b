package org.wso2.carbon.synthetic;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Stand-in for org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme: finds the
 * cluster members by polling the Endpoints of the configured services on the Kubernetes API.
 * It reads the same axis2.xml parameters (environment variables of the same name win, as in the
 * real scheme) and needs the same RBAC (get on endpoints), so a deployment that works with this
 * server would give the real one what it needs.
 */
final class KubernetesMembership {
    static final String LOG = "org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme";
    static final String SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount/";
    // Deliberately not curl/Wget/Mozilla-like, and requests never ask for ?pretty.
    static final String USER_AGENT = "wso2-carbon-kubernetes-membership-scheme/1.0.0 (synthetic)";

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

    final String namespace;
    final List<String> services = new ArrayList<>();
    final String apiServer;          // base URL, null when it cannot be determined
    final boolean skipVerification;
    final Path tokenFile;
    final Path caFile;
    final String username;
    final String password;
    final long intervalMs;
    private volatile Snapshot snapshot = new Snapshot(List.of(), null, null);
    private ScheduledExecutorService scheduler;
    private HttpClient client;
    private String lastLoggedError;
    private long lastLoggedAt;

    KubernetesMembership(Map<String, String> params) {
        namespace = setting(params, "KUBERNETES_NAMESPACE", "default");
        for (String s : setting(params, "KUBERNETES_SERVICES", "").split(",")) {
            if (!s.trim().isEmpty()) {
                services.add(s.trim());
            }
        }
        skipVerification = Boolean.parseBoolean(setting(params, "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION", "false"));
        username = setting(params, "KUBERNETES_MASTER_USERNAME", "");
        password = setting(params, "KUBERNETES_MASTER_PASSWORD", "");
        tokenFile = Path.of(System.getProperty("kubernetes.membership.token.file",
                params.getOrDefault("KUBERNETES_API_SERVER_TOKEN_FILE", SA_DIR + "token")));
        caFile = Path.of(System.getProperty("kubernetes.membership.ca.file",
                params.getOrDefault("KUBERNETES_API_SERVER_CA_FILE", SA_DIR + "ca.crt")));
        intervalMs = Long.getLong("kubernetes.membership.interval.ms", 3000L);

        String master = setting(params, "KUBERNETES_MASTER", "");
        if (master.isEmpty()) {
            master = setting(params, "KUBERNETES_API_SERVER", "");
        }
        if (master.isEmpty()) {
            // In-cluster default, as client libraries do: the "kubernetes" service of the cluster.
            String host = System.getenv("KUBERNETES_SERVICE_HOST");
            String port = System.getenv("KUBERNETES_SERVICE_PORT_HTTPS");
            if (port == null || port.isEmpty()) {
                port = System.getenv("KUBERNETES_SERVICE_PORT");
            }
            if (host != null && !host.isEmpty()) {
                master = "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
                        + (port == null || port.isEmpty() ? "443" : port);
            }
        }
        while (master.endsWith("/")) {
            master = master.substring(0, master.length() - 1);
        }
        apiServer = master.isEmpty() ? null : master;
    }

    /** Environment variable first, then the axis2.xml parameter, as the real scheme does. */
    private static String setting(Map<String, String> params, String name, String dflt) {
        String env = System.getenv(name);
        if (env != null && !env.isEmpty()) {
            return env.trim();
        }
        String p = params.get(name);
        return p == null || p.isEmpty() ? dflt : p.trim();
    }

    Snapshot snapshot() {
        return snapshot;
    }

    void start() {
        CarbonLog.info(LOG, "Initializing kubernetes membership scheme...");
        CarbonLog.info(LOG, String.format("Kubernetes clustering configuration: [api-server] %s [namespace] %s "
                + "[services] %s [skip-master-ssl-verification] %s", apiServer, namespace,
                String.join(",", services), skipVerification));
        if (apiServer == null) {
            fail("Kubernetes membership: no API server: set the KUBERNETES_MASTER parameter in axis2.xml or run "
                    + "inside a pod (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT_HTTPS are not set)");
            return;
        }
        if (services.isEmpty()) {
            fail("Kubernetes membership: the KUBERNETES_SERVICES parameter is empty; no service to watch");
            return;
        }
        if (skipVerification) {
            // Read once by the JDK HTTP client when it is first used: must be set before that.
            System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kubernetes-membership");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::pollSafely, 0, intervalMs, TimeUnit.MILLISECONDS);
    }

    void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    private void pollSafely() {
        try {
            poll();
        } catch (RuntimeException e) {
            fail("Kubernetes membership: unexpected error: " + e);
        }
    }

    private void poll() {
        Set<String> ips = new TreeSet<>();
        for (String svc : services) {
            String url = apiServer + "/api/v1/namespaces/" + namespace + "/endpoints/" + svc;
            String where = "GET endpoints/" + svc + " in namespace " + namespace;
            HttpResponse<String> resp;
            try {
                HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10))
                        .header("Accept", "application/json")
                        .header("User-Agent", USER_AGENT)
                        .GET();
                String auth = authorization();
                if (auth != null) {
                    req.header("Authorization", auth);
                }
                resp = client().send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (SSLHandshakeException e) {
                fail("Kubernetes membership: TLS handshake with the API server " + apiServer + " failed (" + e.getMessage()
                        + "); the server certificate is checked against " + caFile
                        + " unless KUBERNETES_MASTER_SKIP_SSL_VERIFICATION is true");
                client = null;
                return;
            } catch (ConnectException | HttpTimeoutException e) {
                fail("Kubernetes membership: cannot reach the API server at " + apiServer + " for " + where + ": " + e);
                return;
            } catch (IOException | IllegalArgumentException | IllegalStateException e) {
                fail("Kubernetes membership: " + where + " at " + apiServer + " failed: " + e);
                client = null;
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            int code = resp.statusCode();
            if (code == 401 || code == 403) {
                String why = code == 403
                        ? "the pod's service account needs get/list on endpoints (Role + RoleBinding)"
                        : "the service account token was rejected or is missing (" + tokenFile + ")";
                fail("Kubernetes membership: API server refused " + where + " (HTTP " + code + ") \u2014 " + why);
                return;
            }
            if (code == 404) {
                fail("Kubernetes membership: " + where + " returned HTTP 404 \u2014 no Endpoints named '" + svc
                        + "' (is the Service created in namespace " + namespace + "?)");
                return;
            }
            if (code != 200) {
                String body = resp.body() == null ? "" : resp.body();
                fail("Kubernetes membership: " + where + " returned HTTP " + code + ": "
                        + body.substring(0, Math.min(200, body.length())).replace('\n', ' '));
                return;
            }
            try {
                ips.addAll(endpointIps(Json.parse(resp.body())));
            } catch (IllegalArgumentException | ClassCastException e) {
                fail("Kubernetes membership: " + where + " returned an unreadable Endpoints object: " + e.getMessage());
                return;
            }
        }
        publish(new ArrayList<>(ips));
    }

    /** subsets[].addresses[].ip of an Endpoints object (notReadyAddresses are not members). */
    static List<String> endpointIps(Object endpoints) {
        List<String> out = new ArrayList<>();
        Object subsets = ((Map<?, ?>) endpoints).get("subsets");
        if (subsets == null) {
            return out;
        }
        for (Object subset : (Collection<?>) subsets) {
            Object addresses = ((Map<?, ?>) subset).get("addresses");
            if (addresses == null) {
                continue;
            }
            for (Object a : (Collection<?>) addresses) {
                Object ip = ((Map<?, ?>) a).get("ip");
                if (ip instanceof String && !((String) ip).isEmpty()) {
                    out.add((String) ip);
                }
            }
        }
        return out;
    }

    private void publish(List<String> members) {
        Snapshot old = snapshot;
        if (old.updatedAt == null) {
            CarbonLog.info(LOG, "Kubernetes membership: members of " + String.join(",", services) + ": " + members);
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
            CarbonLog.info(LOG, "Kubernetes membership: API server reachable again");
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

    /** The token is re-read each poll: projected service account tokens are rotated by the kubelet. */
    private String authorization() throws IOException {
        if (Files.isReadable(tokenFile)) {
            String token = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
            if (!token.isEmpty()) {
                return "Bearer " + token;
            }
        }
        if (!username.isEmpty()) {
            return "Basic " + Base64.getEncoder().encodeToString(
                    (username + ":" + password).getBytes(StandardCharsets.UTF_8));
        }
        return null;
    }

    private HttpClient client() throws IOException {
        if (client == null) {
            client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .sslContext(sslContext())
                    .build();
        }
        return client;
    }

    private SSLContext sslContext() throws IOException {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            if (skipVerification || !apiServer.startsWith("https:")) {
                ctx.init(null, new TrustManager[] {new TrustAll()}, null);
                return ctx;
            }
            if (!Files.isReadable(caFile)) {
                throw new IOException("CA bundle " + caFile + " is not readable (set "
                        + "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION=true to skip verification)");
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            try (InputStream in = Files.newInputStream(caFile)) {
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
            }
            if (i == 0) {
                throw new IOException("no certificate in CA bundle " + caFile);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("cannot set up TLS for the API server: " + e, e);
        }
    }

    /** KUBERNETES_MASTER_SKIP_SSL_VERIFICATION=true: a development option, as in the real scheme. */
    private static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
