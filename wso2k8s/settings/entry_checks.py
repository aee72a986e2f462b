"""Rules of the `entry` settings that span several keys (checked with the others, before any resource)."""

from __future__ import annotations

import ipaddress
import re

from .database_checks import Report
from .errors import Problem
from .schema import Settings

_ADDRESS = re.compile(r"^[0-9.]+$")  # an Ingress rule host and an HTTPRoute hostname are names, not addresses
# A DNS-1123 subdomain: what an Ingress rule host, an HTTPRoute hostname and the edge's site address accept.
_DNS_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")


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
    elif not _DNS_NAME.match(e.host):
        problem(("entry", "host"), f"'{e.host}' is not a DNS name (labels of a-z, 0-9 and inner '-', at most 63 "
                "characters each, joined by single dots)", "write entry.host as the name in your DNS, e.g. "
                "is.example.com")
    if e.cookie_name == "JSESSIONID":
        problem(("entry", "cookie_name"), "is JSESSIONID, the members' own session cookie: the entry's routing "
                "cookie would overwrite it and every sign-in would be lost", "keep the default wso2-route, or "
                "another name of the entry's own")
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
    if e.kind == "edge":
        _edge_problems(s, problem)
    if e.kind == "ingress" and e.ingress.dialect == "nginx-inc" and e.ingress.backend_ca_secret_name:
        problem(("entry", "ingress", "backend_ca_secret_name"), "has no annotation in the nginx-inc dialect "
                "(its ssl-services annotation does not verify the backend)",
                "remove it, or use dialect ingress-nginx or haproxy, which verify the members' certificate")


def _edge_problems(s: Settings, problem: Report) -> None:
    """entry.edge.external_ips: addresses of the nodes, where kube-proxy answers the edge's 443."""
    ips = s.entry.edge.external_ips
    for i, text in enumerate(ips):
        key = ("entry", "edge", "external_ips", i)
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            problem(key, f"'{text}' is not an IP address", "list the IPv4 addresses of the nodes users reach, "
                    "e.g. entry.edge.external_ips: [10.245.0.1] (`kubectl get nodes -o wide`: INTERNAL-IP)")
            continue
        if address.version != 4:
            problem(key, f"'{text}' is an IPv6 address; the edge proxy takes IPv4 node addresses only",
                    "list the nodes' IPv4 addresses (`kubectl get nodes -o wide`)")
        elif address.is_unspecified or address.is_loopback or address.is_multicast or address.is_link_local:
            problem(key, f"'{text}' is not a node's address (unspecified, loopback, multicast or link-local): "
                    "kube-proxy would never see users' packets to it",
                    "list the nodes' own IPv4 addresses (`kubectl get nodes -o wide`: INTERNAL-IP or EXTERNAL-IP)")
        if text in ips[:i]:
            problem(key, f"'{text}' is listed twice", "list each node address once")


def edge_address_problems(loaded: list[Settings], origins: dict[str, dict[str, tuple[str, str]]]) -> list[Problem]:
    """Across profiles: two edges cannot both take one node address's 443 (kube-proxy would send each
    connection to either, whatever host the user typed)."""
    problems: list[Problem] = []
    taken: dict[str, str] = {}  # address → the first profile whose edge listens there
    for s in loaded:
        if s.entry.kind != "edge":
            continue
        for ip in dict.fromkeys(s.entry.edge.external_ips):
            first = taken.setdefault(ip, s.profile)
            if first != s.profile:
                key = "entry.edge.external_ips"
                spelled, layer = origins.get(s.profile, {}).get(key, (key, "hieradata/common.yaml"))
                problems.append(Problem(spelled, layer, f"'{ip}' is the edge address of profiles {first} and "
                                        f"{s.profile}: both edges would answer on its 443",
                                        "give each profile's edge its own node addresses (wso2-kubernetes:"
                                        f"profile_overrides.{s.profile}.entry.edge.external_ips), or give only "
                                        "one profile entry.kind edge"))
    return problems
