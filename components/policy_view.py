"""What the policy pack judges of a component while its children's inputs are still unknown.

During a preview the members' pod spec is computed from the product image's digest, which is known only once
the image is pushed: every rule on the pod (resources, image) would be skipped. The component carries the
settings those values come from as its own inputs, known at preview time (policy/rules.py reads them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wso2k8s.settings.availability import members_at_least

if TYPE_CHECKING:  # carbon_cluster.py imports this module
    from .carbon_cluster import Members


def carbon_cluster_view(m: Members) -> dict[str, Any]:
    """The CarbonCluster's known settings: what its pods will be (minus the digest)."""
    r = m.pod.resources
    return {
        "kind": m.kind,
        "replicas": members_at_least(m.replicas, m.autoscaler),  # an autoscaler's minimum
        "resources": {"requests": {"cpu": r.cpu_request, "memory": r.memory_request},
                      "limits": {"cpu": r.cpu_limit, "memory": r.memory_limit}},
        # the repository and tag the pods pull (by the digest of this tag, once pushed)
        "image": m.image_name,
    }
