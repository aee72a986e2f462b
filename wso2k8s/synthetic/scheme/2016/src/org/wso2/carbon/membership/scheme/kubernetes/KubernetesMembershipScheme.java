package org.wso2.carbon.membership.scheme.kubernetes;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.wso2.carbon.synthetic.Json;
import org.wso2.carbon.synthetic.MembershipScheme;

/**
 * Synthetic stand-in for the 2016 scheme (wso2/kubernetes-artifacts, kubernetes-membership-scheme-1.0.0):
 * KUBERNETES_MASTER is required, authentication is basic auth (KUBERNETES_MASTER_USERNAME/PASSWORD) or none;
 * there is no bearer token, so a current API server answers 401. Environment variables win over axis2.xml.
 */
public class KubernetesMembershipScheme implements MembershipScheme {
    static final String PARAMETER_NAME_KUBERNETES_MASTER = "KUBERNETES_MASTER";
    static final String PARAMETER_NAME_KUBERNETES_MASTER_USERNAME = "KUBERNETES_MASTER_USERNAME";
    static final String PARAMETER_NAME_KUBERNETES_MASTER_PASSWORD = "KUBERNETES_MASTER_PASSWORD";
    static final String PARAMETER_NAME_KUBERNETES_NAMESPACE = "KUBERNETES_NAMESPACE";
    static final String PARAMETER_NAME_KUBERNETES_SERVICES = "KUBERNETES_SERVICES";

    private String master;
    private String namespace;
    private String username;
    private String password;
    private final List<String> services = new ArrayList<>();

    private static String value(Map<String, String> params, String name, String dflt) {
        String env = System.getenv(name);
        if (env != null && !env.isEmpty()) {
            return env;
        }
        String p = params.get(name);
        return p == null || p.isEmpty() ? dflt : p;
    }

    @Override
    public void init(Map<String, String> params, Log log) throws Exception {
        log.info("Initializing kubernetes membership scheme...");
        master = value(params, PARAMETER_NAME_KUBERNETES_MASTER, "");
        if (master.isEmpty()) {
            throw new Exception("Kubernetes master parameter not found");
        }
        namespace = value(params, PARAMETER_NAME_KUBERNETES_NAMESPACE, "default");
        String svc = value(params, PARAMETER_NAME_KUBERNETES_SERVICES, "");
        if (svc.isEmpty()) {
            throw new Exception("Kubernetes services parameter not found");
        }
        for (String s : svc.split(",")) {
            services.add(s.trim());
        }
        username = value(params, PARAMETER_NAME_KUBERNETES_MASTER_USERNAME, "");
        password = value(params, PARAMETER_NAME_KUBERNETES_MASTER_PASSWORD, "");
        log.info(String.format("Kubernetes clustering configuration: [master] %s [namespace] %s [services] %s",
                master, namespace, svc));
    }

    @Override
    public Set<String> resolve() throws Exception {
        Set<String> ips = new TreeSet<>();
        for (String svc : services) {
            String base = master.endsWith("/") ? master.substring(0, master.length() - 1) : master;
            URL url = new URL(base + "/api/v1/namespaces/" + namespace + "/endpoints/" + svc);
            HttpURLConnection c = (HttpURLConnection) url.openConnection();
            c.setConnectTimeout(5000);
            c.setReadTimeout(10000);
            if (!username.isEmpty()) {
                c.setRequestProperty("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (username + ":" + password).getBytes(StandardCharsets.UTF_8)));
            }
            try {
                int code = c.getResponseCode();
                if (code != 200) {
                    throw new Exception("Could not get the Endpoints of " + svc + " from " + master + ": HTTP " + code);
                }
                try (InputStream in = c.getInputStream()) {
                    Object endpoints = Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    Object subsets = ((Map<?, ?>) endpoints).get("subsets");
                    for (Object subset : subsets == null ? List.of() : (Collection<?>) subsets) {
                        Object addresses = ((Map<?, ?>) subset).get("addresses");
                        for (Object a : addresses == null ? List.of() : (Collection<?>) addresses) {
                            ips.add(String.valueOf(((Map<?, ?>) a).get("ip")));
                        }
                    }
                }
            } catch (IOException e) {
                throw new Exception("Could not connect to Kubernetes API at " + master + ": " + e);
            } finally {
                c.disconnect();
            }
        }
        return ips;
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("namespace", namespace);
        m.put("services", services);
        m.put("api_server", master);
        return m;
    }
}
