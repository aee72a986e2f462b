package org.wso2.carbon.membership.scheme.kubernetes;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.wso2.carbon.synthetic.Json;
import org.wso2.carbon.synthetic.MembershipScheme;

/**
 * API mode: GET /api/v1/namespaces/{ns}/endpoints/{svc}; addresses and notReadyAddresses are members.
 * Authentication as the real scheme: KUBERNETES_API_SERVER_TOKEN, else username/password (basic), else over
 * HTTPS the service-account token file (BEARER_TOKEN_FILE_LOCATION or the pod's), re-read on every request.
 */
final class ApiBasedPodIpResolver {
    // Deliberately not curl/Wget/Mozilla-like, and requests never ask for ?pretty.
    static final String USER_AGENT = "wso2-carbon-kubernetes-membership-scheme/1.0.5 (synthetic)";

    final String apiServer;
    private final String namespace;
    private final List<String> services;
    private final MembershipScheme.Log log;
    private final String username;
    private final String password;
    private final String token;
    private final boolean skipVerification;
    private HttpClient client;
    private boolean warned;

    ApiBasedPodIpResolver(Map<String, String> params, String namespace, List<String> services,
                          MembershipScheme.Log log) throws Exception {
        this.namespace = namespace;
        this.services = services;
        this.log = log;
        String url = Constants.value(params, Constants.KUBERNETES_API_SERVER, "");
        if (url.isEmpty()) {
            log.info(String.format("Parameter %s not found, checking %s & %s", Constants.KUBERNETES_API_SERVER,
                    Constants.KUBERNETES_SERVICE_HOST, Constants.KUBERNETES_SERVICE_PORT_HTTPS));
            String host = System.getenv(Constants.KUBERNETES_SERVICE_HOST);
            if (host == null || host.isEmpty()) {
                throw new Exception("Environment variable " + Constants.KUBERNETES_SERVICE_HOST + " not found");
            }
            String port = System.getenv(Constants.KUBERNETES_SERVICE_PORT_HTTPS);
            if (port == null || port.isEmpty()) {
                throw new Exception("Environment variable " + Constants.KUBERNETES_SERVICE_PORT_HTTPS + " not found");
            }
            url = new java.net.URL("https", host, Integer.parseInt(port), "").toString();
        }
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        apiServer = url;
        username = Constants.value(params, Constants.KUBERNETES_API_SERVER_USERNAME, "");
        password = Constants.value(params, Constants.KUBERNETES_API_SERVER_PASSWORD, "");
        token = Constants.value(params, Constants.KUBERNETES_API_SERVER_TOKEN, "");
        skipVerification = Boolean.parseBoolean(
                Constants.value(params, Constants.KUBERNETES_MASTER_SKIP_SSL_VERIFICATION, "false"));
        log.info(String.format("Kubernetes clustering configuration: [api-server] %s [namespace] %s [services] %s "
                + "[skip-master-ssl-verification] %s", apiServer, namespace, String.join(",", services),
                skipVerification));
    }

    Set<String> resolve() throws Exception {
        Set<String> ips = new TreeSet<>();
        for (String svc : services) {
            String url = apiServer + String.format(Constants.ENDPOINTS_API_CONTEXT, namespace) + svc;
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
                client = null;
                throw new Exception("Kubernetes membership: TLS handshake with the API server " + apiServer
                        + " failed (" + e.getMessage() + "); the server certificate is checked against the JVM's "
                        + "truststore " + System.getProperty("javax.net.ssl.trustStore", "(the JDK's cacerts)")
                        + " unless KUBERNETES_MASTER_SKIP_SSL_VERIFICATION is true");
            } catch (ConnectException | HttpTimeoutException e) {
                throw new Exception("Kubernetes membership: cannot reach the API server at " + apiServer + " for "
                        + where + ": " + e);
            } catch (IOException | IllegalArgumentException | IllegalStateException e) {
                client = null;
                throw new Exception("Kubernetes membership: " + where + " at " + apiServer + " failed: " + e);
            }
            warnOnce(resp);
            int code = resp.statusCode();
            if (code == 401 || code == 403) {
                String why = code == 403
                        ? "the pod's service account needs get/list on endpoints (Role + RoleBinding)"
                        : "the service account token was rejected or is missing";
                throw new Exception("Kubernetes membership: API server refused " + where + " (HTTP " + code
                        + ") \u2014 " + why);
            }
            if (code == 404) {
                throw new Exception("Kubernetes membership: " + where + " returned HTTP 404 \u2014 no Endpoints named '"
                        + svc + "' (is the Service created in namespace " + namespace + "?)");
            }
            if (code != 200) {
                String body = resp.body() == null ? "" : resp.body();
                throw new Exception("Kubernetes membership: " + where + " returned HTTP " + code + ": "
                        + body.substring(0, Math.min(200, body.length())).replace('\n', ' '));
            }
            try {
                ips.addAll(endpointIps(Json.parse(resp.body())));
            } catch (IllegalArgumentException | ClassCastException e) {
                throw new Exception("Kubernetes membership: " + where + " returned an unreadable Endpoints object: "
                        + e.getMessage());
            }
        }
        return ips;
    }

    /** Kubernetes 1.33+ answers v1 Endpoints reads with a deprecation Warning header: logged once, kept working. */
    private void warnOnce(HttpResponse<String> resp) {
        List<String> warnings = resp.headers().allValues("Warning");
        if (!warned && !warnings.isEmpty()) {
            warned = true;
            log.warn("Kubernetes API server warning (logged once): " + String.join("; ", warnings));
        }
    }

    /** subsets[].addresses[].ip and notReadyAddresses[].ip: the real scheme counts both as members. */
    static Set<String> endpointIps(Object endpoints) {
        Set<String> out = new TreeSet<>();
        Object subsets = ((Map<?, ?>) endpoints).get("subsets");
        if (subsets == null) {
            return out;
        }
        for (Object subset : (Collection<?>) subsets) {
            for (String key : new String[] {"addresses", "notReadyAddresses"}) {
                Object addresses = ((Map<?, ?>) subset).get(key);
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
        }
        return out;
    }

    private String authorization() throws IOException {
        if (!token.isEmpty()) {
            return "Bearer " + token;
        }
        if (!username.isEmpty() && !password.isEmpty()) {
            return "Basic " + Base64.getEncoder().encodeToString(
                    (username + ":" + password).getBytes(StandardCharsets.UTF_8));
        }
        if (!apiServer.startsWith("https:")) {
            return null;
        }
        String location = System.getenv("BEARER_TOKEN_FILE_LOCATION");
        Path file = Path.of(location == null || location.isEmpty() ? Constants.BEARER_TOKEN_FILE_LOCATION : location);
        if (!Files.isReadable(file)) {
            throw new IOException("service account token " + file + " is not readable");
        }
        return "Bearer " + Files.readString(file, StandardCharsets.UTF_8).trim();
    }

    private HttpClient client() throws IOException {
        if (client == null) {
            if (skipVerification) {
                // Read once by the JDK HTTP client when it is first used: must be set before that.
                System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
            }
            client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .sslContext(sslContext())
                    .build();
        }
        return client;
    }

    /**
     * As the real 1.0.5 jar (KubernetesHttpsApiEndpoint over HttpsURLConnection): the JVM's default trust, i.e.
     * javax.net.ssl.trustStore, which Carbon sets from carbon.xml Security/TrustStore. The pod's ca.crt is not
     * read: a truststore without the cluster's CA fails the handshake, as it does for users.
     */
    private SSLContext sslContext() throws IOException {
        try {
            if (skipVerification || !apiServer.startsWith("https:")) {
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, new TrustManager[] {new TrustAll()}, null);
                return ctx;
            }
            return SSLContext.getDefault();
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
