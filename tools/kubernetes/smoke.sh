#!/bin/bash
# End-to-end check of the local engines, re-runnable (needs engine.sh up, registry.sh up, cluster.sh up):
#  1. build a tiny image with the Docker engine (FROM scratch: the host's static busybox + curl and its libraries),
#     push it to the local registry, read its digest;
#  2. apply ServiceAccount + Role(get,list endpoints,pods) + RoleBinding + ReplicationController (2 replicas, image
#     by digest 127.0.0.1:5000/...@sha256:..., pulled by containerd over plain HTTP) + NodePort Service 32002
#     (sessionAffinity ClientIP, protocol TCP);
#  3. check: pods Running/Ready; NodePort answers on 127.0.0.1:32002 (affinity: always the same pod); from a pod,
#     GET https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT_HTTPS/api/v1/namespaces/<ns>/endpoints/web
#     with the SA token and ca.crt -> HTTP 200 listing both pod IPs (what WSO2's Kubernetes membership scheme
#     does); pod->pod and pod->ClusterIP; without the RoleBinding -> HTTP 403.
#     Cluster DNS from a pod: kubernetes.default.svc.cluster.local and the Service `web` (short and full name)
#     resolve to their ClusterIPs; an outside name fails fast (no forwarding). Secrets at rest: a Secret with a
#     random value is written, then read back through the API, and a grep of the etcd data directory does not find it.
#  4. delete the namespace (KEEP=1 keeps it).
# Exit 0 when every check passed. (In-pod HTTP uses curl: the static busybox wget segfaults here on non-loopback
# addresses, and cannot talk TLS to this apiserver anyway.)
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
TOOLS=$(dirname "$HERE")
STATE=${WSO2K8S_STATE:-/var/lib/wso2-kubernetes}
CACHE=${WSO2K8S_CACHE:-/var/cache/wso2-kubernetes}
BIN=${K8S_BIN:-$CACHE/kubernetes-1.34.4/bin}
K=$STATE/cluster/kubeconfig
REG=${REGISTRY_ADDR:-127.0.0.1:5000}
NS=${SMOKE_NS:-wso2k8s-smoke}
NODEPORT=${SMOKE_NODEPORT:-32002}
IMAGE=$REG/wso2k8s/smoke:1

LOG_TAG=smoke; . "$TOOLS/lib.sh"
ok() { log "OK   $*"; }
fail() { echo "[smoke +$(elapsed)] FAIL $*" >&2; exit 1; }
k() { "$BIN/kubectl" --kubeconfig="$K" "$@"; }

"$TOOLS/docker/engine.sh" status >/dev/null || fail "docker engine not up (tools/docker/engine.sh up)"
"$TOOLS/docker/registry.sh" status >/dev/null || fail "registry not up (tools/docker/registry.sh up)"
"$HERE/cluster.sh" status >/dev/null || fail "cluster not up (tools/kubernetes/cluster.sh up)"

# ---------- 1. image ----------
CTX=$(mktemp -d /var/tmp/wso2k8s-smoke.XXXXXX); trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/rootfs/bin" "$CTX/rootfs/www" "$CTX/rootfs/tmp"
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || fail "/bin/busybox is not static (apt-get install busybox-static)"
cp /bin/busybox "$CTX/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$CTX/rootfs/bin/$a"; done
cp /usr/bin/curl "$CTX/rootfs/bin/curl"
ldd /usr/bin/curl | grep -o '/[^ ]*' | xargs -I{} cp --parents -L {} "$CTX/rootfs/"
cat >"$CTX/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV PATH=/bin
CMD ["sleep", "3600"]
EOF
DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" "$CTX" >/dev/null 2>"$CTX/build.err" || { cat "$CTX/build.err" >&2; fail "docker build"; }
docker push "$IMAGE" >/dev/null
REF=$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$IMAGE" | grep "^$REG/wso2k8s/smoke@sha256:" | head -1)
[ -n "$REF" ] || fail "no registry digest for $IMAGE"
ok "image built and pushed: $REF ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}'))"

# ---------- 2. apply ----------
delete_ns() {  # pods first (force), so the namespace controller has little left to wait for
  k -n "$NS" delete rc,pods --all --grace-period=0 --force >/dev/null 2>&1 || true
  k delete ns "$NS" --wait=true --timeout=120s >/dev/null
}
if k get ns "$NS" >/dev/null 2>&1; then log "deleting leftover namespace $NS"; delete_ns; fi
TA=$(date +%s%N)
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: membership, namespace: $NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: endpoints-reader, namespace: $NS}
rules:
- apiGroups: [""]
  resources: ["endpoints", "pods"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: endpoints-reader, namespace: $NS}
subjects: [{kind: ServiceAccount, name: membership, namespace: $NS}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: endpoints-reader}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: web, namespace: $NS}
spec:
  replicas: 2
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: membership
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: $REF
        command: ["sh", "-c", "hostname > /www/index.html; exec httpd -f -p 80 -h /www"]
        ports: [{containerPort: 80, protocol: TCP}]
        readinessProbe: {httpGet: {port: 80, path: /}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  type: NodePort
  sessionAffinity: ClientIP
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 80, nodePort: $NODEPORT, protocol: TCP}
EOF
ok "applied SA, Role, RoleBinding, RC web x2, Service web (NodePort $NODEPORT)"

# ---------- 3. checks ----------
for i in $(seq 1 120); do
  [ "$(k -n "$NS" get pods -l app=web -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c True)" = 2 ] && break
  sleep 0.5
done
k -n "$NS" get pods -l app=web -o wide --no-headers | sed 's/^/       /'
PODS=$(k -n "$NS" get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
IPS=$(k -n "$NS" get pods -l app=web -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort)
[ "$(wc -w <<<"$PODS")" = 2 ] && [ "$i" -lt 120 ] || fail "2 pods Ready (events: $(k -n "$NS" get events --no-headers 2>&1 | tail -5))"
ok "2 pods Running and Ready $(( ($(date +%s%N) - TA) / 1000000 )) ms after apply (image pulled from $REG by digest)"
P1=$(head -1 <<<"$PODS"); P2=$(tail -1 <<<"$PODS"); IP2=$(k -n "$NS" get pod "$P2" -o jsonpath='{.status.podIP}')

for _ in $(seq 1 30); do curl -s -m 2 -o /dev/null "http://127.0.0.1:$NODEPORT/" && break; sleep 0.3; done
ANS=$(for _ in $(seq 1 8); do curl -s -m 3 "http://127.0.0.1:$NODEPORT/"; done | sort | uniq -c)
[ "$(wc -l <<<"$ANS")" = 1 ] && grep -qxF "$(awk '{print $2}' <<<"$ANS")" <<<"$PODS" || fail "NodePort 127.0.0.1:$NODEPORT with ClientIP affinity: got [$ANS]"
ok "NodePort http://127.0.0.1:$NODEPORT answered 8/8 from one pod (sessionAffinity ClientIP): $(awk '{print $2}' <<<"$ANS")"

# shellcheck disable=SC2016  # expanded inside the pod
CHECK='SA=/var/run/secrets/kubernetes.io/serviceaccount
curl -sS -m 5 -A wso2k8s-smoke --cacert $SA/ca.crt -H "Authorization: Bearer $(cat $SA/token)" -w "\nHTTP %{http_code}\n" \
  "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT_HTTPS/api/v1/namespaces/$(cat $SA/namespace)/endpoints/web"'
for i in $(seq 1 30); do
  OUT=$(k -n "$NS" exec "$P1" -- sh -c "$CHECK" 2>&1 || true)
  GOT=$(sed '$d' <<<"$OUT" | jq -r '.subsets[]?.addresses[]?.ip' 2>/dev/null | sort || true)
  [ "$(tail -1 <<<"$OUT")" = "HTTP 200" ] && [ "$GOT" = "$IPS" ] && break
  sleep 0.5
done
[ "$(tail -1 <<<"$OUT")" = "HTTP 200" ] && [ "$GOT" = "$IPS" ] || fail "in-pod API call: $OUT"
# shellcheck disable=SC2016  # expanded inside the pod
HOSTPORT=$(k -n "$NS" exec "$P1" -- sh -c 'echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT_HTTPS')
ok "pod $P1 GET https://$HOSTPORT/api/v1/namespaces/$NS/endpoints/web with SA token + ca.crt: HTTP 200, IPs $(xargs <<<"$GOT")"

[ "$(k -n "$NS" exec "$P1" -- curl -sS -m 3 "http://$IP2/" 2>&1)" = "$P2" ] || fail "pod -> pod ($P1 -> $IP2)"
CIP=$(k -n "$NS" get svc web -o jsonpath='{.spec.clusterIP}')
grep -qxF "$(k -n "$NS" exec "$P1" -- curl -sS -m 3 "http://$CIP/" 2>&1)" <<<"$PODS" || fail "pod -> ClusterIP $CIP"
ok "pod -> pod ($IP2) and pod -> ClusterIP ($CIP:80)"

# --- cluster DNS (CoreDNS, Service kube-system/kube-dns) ---
KIP=$(k -n default get svc kubernetes -o jsonpath='{.spec.clusterIP}')
resolve() { k -n "$NS" exec "$P1" -- nslookup "$1" 2>&1 | awk '/^Name:/{n=1} n && /^Address/{print $NF}' | head -1; }
[ "$(resolve kubernetes.default.svc.cluster.local)" = "$KIP" ] || fail "DNS: kubernetes.default.svc.cluster.local -> $KIP (got: $(k -n "$NS" exec "$P1" -- nslookup kubernetes.default.svc.cluster.local 2>&1 | xargs))"
[ "$(resolve "web.$NS.svc.cluster.local")" = "$CIP" ] || fail "DNS: web.$NS.svc.cluster.local -> $CIP"
[ "$(resolve web)" = "$CIP" ] || fail "DNS: short name web -> $CIP (search path)"
[ "$(k -n "$NS" exec "$P1" -- curl -sS -m 3 "http://web.$NS.svc.cluster.local/" 2>&1 | grep -cxF -f <(echo "$PODS"))" = 1 ] || fail "pod -> http://web.$NS.svc.cluster.local/"
TD=$(date +%s%N)
k -n "$NS" exec "$P1" -- nslookup www.example.com >/dev/null 2>&1 && fail "DNS: an outside name resolved (expected an error)"
MS=$(( ($(date +%s%N) - TD) / 1000000 )); [ "$MS" -lt 3000 ] || fail "DNS: the outside name took $MS ms to fail (expected fast)"
ok "DNS from a pod: kubernetes.default.svc.cluster.local -> $KIP, web / web.$NS.svc.cluster.local -> $CIP (HTTP by name too); www.example.com fails in $MS ms"

# --- Secrets encrypted at rest: the value is readable through the API, absent from etcd's files ---
VAL="wso2k8s-smoke-$(openssl rand -hex 12)"
k -n "$NS" create secret generic at-rest --from-literal=value="$VAL" >/dev/null
[ "$(k -n "$NS" get secret at-rest -o jsonpath='{.data.value}' | base64 -d)" = "$VAL" ] || fail "secret read back through the API"
ETCD_DIR=$STATE/cluster/etcd
[ -d "$ETCD_DIR/member" ] || fail "no etcd data directory at $ETCD_DIR"
if grep -rqaF "$VAL" "$ETCD_DIR"; then fail "the Secret's value is in plain text under $ETCD_DIR"; fi
grep -rqaF "k8s:enc:secretbox:v1:key1" "$ETCD_DIR" || fail "no secretbox-encrypted record under $ETCD_DIR"
ok "Secret value read back through the API; not found in $ETCD_DIR (stored as k8s:enc:secretbox:v1)"

k -n "$NS" delete rolebinding endpoints-reader >/dev/null
for _ in $(seq 1 20); do
  CODE=$(k -n "$NS" exec "$P1" -- sh -c "$CHECK" 2>&1 | tail -1); [ "$CODE" = "HTTP 403" ] && break; sleep 0.3
done
[ "$CODE" = "HTTP 403" ] || fail "without the RoleBinding expected HTTP 403, got $CODE"
ok "without the RoleBinding: HTTP 403 (RBAC enforced)"

# ---------- 4. clean up ----------
if [ "${KEEP:-0}" = 1 ]; then log "KEEP=1: namespace $NS left in place"
else delete_ns; log "namespace $NS deleted"; fi
log "ALL CHECKS PASSED"
