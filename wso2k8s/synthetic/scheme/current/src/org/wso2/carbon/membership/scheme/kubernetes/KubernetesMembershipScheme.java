package org.wso2.carbon.membership.scheme.kubernetes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.wso2.carbon.synthetic.MembershipScheme;

/**
 * Synthetic stand-in for wso2/kubernetes-common's KubernetesMembershipScheme (1.0.1 and later): USE_DNS
 * (default true) picks DNS lookups of the services, otherwise their Endpoints are read from the API server.
 */
public class KubernetesMembershipScheme implements MembershipScheme {
    private String namespace;
    private final List<String> services = new ArrayList<>();
    private boolean useDns;
    private ApiBasedPodIpResolver api;
    private DnsBasedPodIpResolver dns;

    @Override
    public void init(Map<String, String> params, Log log) throws Exception {
        log.info("Initializing kubernetes membership scheme...");
        namespace = System.getenv(Constants.KUBERNETES_NAMESPACE);
        if (namespace == null || namespace.isEmpty()) {
            namespace = Constants.value(params, Constants.KUBERNETES_NAMESPACE, "default");
        }
        String svc = System.getenv(Constants.KUBERNETES_SERVICES);
        if (svc == null || svc.isEmpty()) {
            svc = Constants.value(params, Constants.KUBERNETES_SERVICES, null);
            if (svc.isEmpty()) {
                throw new Exception("Kubernetes services parameter not found");
            }
        }
        for (String s : svc.split(",")) {
            services.add(s.trim());
        }
        useDns = Boolean.parseBoolean(Constants.value(params, Constants.USE_DNS, "true"));
        if (useDns) {
            dns = new DnsBasedPodIpResolver(params, namespace, services, log);
        } else {
            api = new ApiBasedPodIpResolver(params, namespace, services, log);
        }
    }

    @Override
    public Set<String> resolve() throws Exception {
        return useDns ? dns.resolve() : api.resolve();
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("namespace", namespace);
        m.put("services", services);
        m.put("api_server", api == null ? null : api.apiServer);
        m.put("dns_names", dns == null ? null : dns.names());
        return m;
    }
}
