"""Rules of the `entry` settings that span several keys (checked with the others, before any resource)."""

from __future__ import annotations

import re

from .database_checks import Report
from .schema import Settings

_ADDRESS = re.compile(r"^[0-9.]+$")  # an Ingress rule host and an HTTPRoute hostname are names, not addresses


def entry_problems(s: Settings, problem: Report) -> None:
    e = s.entry
    tls = e.tls
    # a problem about what was set points at the key set (the layer that set it); one about what is missing
    # points at entry.kind, which asked for it
    given = ("entry", "tls", "generate" if tls.generate else "secret_name")
    kind = ("entry", "kind")
    if not s.entry_used:
        if tls.secret_name or tls.generate:
            problem(given, "is set but entry.kind is none: there is no entry to present it",
                    "set entry.kind (ingress, gateway or edge) or remove entry.tls")
        return
    if e.host is None:
        problem(kind, f"is '{e.kind}' but entry.host is not set: the entry needs the external name "
                "users type", "set entry.host to the name in your DNS, e.g. entry.host: is.example.com")
    elif e.host != e.host.lower() or _ADDRESS.match(e.host):
        problem(("entry", "host"), f"'{e.host}' is not a lower-case DNS name (an Ingress rule and an HTTPRoute "
                "take no upper case and no address)", f"write entry.host: {e.host.lower()} (or a DNS name)")
    if tls.secret_name and tls.generate:
        problem(given, "is set together with entry.tls.secret_name: both secret_name and generate: true",
                "keep one: your Secret (secret_name) or, for dev, generate: true")
    if e.kind == "gateway":
        g = e.gateway
        if g.parent_ref is None:
            problem(kind, "is 'gateway' but entry.gateway.parent_ref is not set: an HTTPRoute must name the "
                    "Gateway it joins",
                    "set entry.gateway.parent_ref: {name: <your Gateway>, namespace: <its namespace>, "
                    "section_name: <its HTTPS listener>}")
        if tls.secret_name or tls.generate:
            problem(given, "is set but entry.kind is gateway: TLS ends at the Gateway's listener, "
                    "which holds the certificate", "remove entry.tls and put the certificate on your Gateway's "
                    "HTTPS listener (certificateRefs)")
        if g.backend_ca_config_map is None:
            problem(kind, "is 'gateway' but entry.gateway.backend_ca_config_map is not set: the BackendTLSPolicy "
                    "must name the CA that signed the members' certificate (the members speak HTTPS on 9443)",
                    "kubectl create configmap <name> --from-file=ca.crt=<members' CA or certificate> -n "
                    f"{s.kubernetes.namespace}, then set entry.gateway.backend_ca_config_map: <name>")
        return
    if not (tls.secret_name or tls.generate):
        problem(kind, f"is '{e.kind}' but entry.tls gives no certificate: the entry ends TLS on 443",
                "set entry.tls.secret_name to your kubernetes.io/tls Secret, or entry.tls.generate: true (dev)")
    if e.kind == "ingress" and e.ingress.dialect == "nginx-inc" and e.ingress.backend_ca_secret_name:
        problem(("entry", "ingress", "backend_ca_secret_name"), "has no annotation in the nginx-inc dialect "
                "(its ssl-services annotation does not verify the backend)",
                "remove it, or use dialect ingress-nginx or haproxy, which verify the members' certificate")
