package org.wso2.carbon.membership.scheme.kubernetes;

/** The parameter names of wso2/kubernetes-common's scheme (1.0.1 and later); each is read from the environment
 *  first, then from axis2.xml's clustering parameters. */
final class Constants {
    static final String BEARER_TOKEN_FILE_LOCATION = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    static final String KUBERNETES_API_SERVER = "KUBERNETES_API_SERVER";
    static final String KUBERNETES_API_SERVER_TOKEN = "KUBERNETES_API_SERVER_TOKEN";
    static final String KUBERNETES_API_SERVER_USERNAME = "KUBERNETES_API_SERVER_USERNAME";
    static final String KUBERNETES_API_SERVER_PASSWORD = "KUBERNETES_API_SERVER_PASSWORD";
    static final String KUBERNETES_NAMESPACE = "KUBERNETES_NAMESPACE";
    static final String KUBERNETES_SERVICES = "KUBERNETES_SERVICES";
    static final String KUBERNETES_MASTER_SKIP_SSL_VERIFICATION = "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION";
    static final String KUBERNETES_SERVICE_HOST = "KUBERNETES_SERVICE_HOST";
    static final String KUBERNETES_SERVICE_PORT_HTTPS = "KUBERNETES_SERVICE_PORT_HTTPS";
    static final String USE_DNS = "USE_DNS";
    static final String DNS_LOOKUP_TIMEOUT = "DNS_LOOKUP_TIMEOUT";
    static final String ENDPOINTS_API_CONTEXT = "/api/v1/namespaces/%s/endpoints/";

    private Constants() {
    }

    /** Environment variable first, then the axis2.xml parameter, then the default (null: required). */
    static String value(java.util.Map<String, String> params, String name, String dflt) throws Exception {
        String env = System.getenv(name);
        if (env != null && !env.isEmpty()) {
            return env;
        }
        String p = params.get(name);
        if (p == null) {
            if (dflt == null) {
                throw new Exception(name + " parameter not found");
            }
            return dflt;
        }
        return p;
    }
}
