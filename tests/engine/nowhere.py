"""A kubeconfig for a cluster that is not there: previews need no cluster, only a kubeconfig that looks real."""

from __future__ import annotations

import base64

from wso2k8s.keys.certificates import self_signed


def nowhere_kubeconfig() -> str:
    """As a real one looks, its cluster's CA included (the stack keystores trust it), for a closed port."""
    ca = base64.b64encode(self_signed("nowhere-ca", []).certificate_pem.encode()).decode()
    return ("apiVersion: v1\nkind: Config\nclusters: [{name: n, cluster: {server: 'https://127.0.0.1:9', "
            f"certificate-authority-data: {ca}}}}}]\nusers: [{{name: n, user: {{token: x}}}}]\n"
            "contexts: [{name: n, context: {cluster: n, user: n}}]\ncurrent-context: n\n")
