package org.wso2.carbon.synthetic;

import java.util.Map;
import java.util.Set;

/**
 * What the synthetic server needs from a membership scheme jar (the real Carbon interface is
 * org.wso2.carbon.core.clustering.hazelcast.HazelcastMembershipScheme, which needs Hazelcast). The server
 * loads the class named by axis2.xml's membershipSchemeClassName from repository/components/lib or dropins,
 * by reflection, so a missing jar or a parameter name the jar does not read fails like the real product.
 */
public interface MembershipScheme {
    /** Where the scheme logs (the server's log, under the scheme's own class name). */
    interface Log {
        void info(String message);

        void warn(String message);

        void error(String message);
    }

    /**
     * Reads the scheme's parameters: environment variables first, then these axis2.xml clustering parameters
     * (name to text). Throws, with the real scheme's message, when a required one is missing.
     */
    void init(Map<String, String> axis2Parameters, Log log) throws Exception;

    /** The member IPs now; throws with a readable message when they cannot be found. */
    Set<String> resolve() throws Exception;

    /** The configuration as read, for /cluster/members (namespace, services, api_server or dns_names). */
    Map<String, Object> describe();
}
