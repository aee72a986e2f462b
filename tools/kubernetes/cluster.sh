#!/bin/bash
# A real single-node Kubernetes v1.34.4 cluster on this machine, offline, for wso2-kubernetes.
#
#   tools/kubernetes/cluster.sh build     build the binaries into the cache (no-op when they exist; ~25 min cold)
#   tools/kubernetes/cluster.sh up        start etcd, kube-apiserver, controller-manager, scheduler, containerd,
#                                         kubelet, kube-proxy, CoreDNS (fast no-op when already up); prints the
#                                         kubeconfig path. The cluster's objects (etcd) survive down/up and reboots.
#   tools/kubernetes/cluster.sh down      stop what `up` started and undo its host changes; etcd data is kept
#   tools/kubernetes/cluster.sh reset     down, then throw the cluster's objects away: the next up starts empty
#   tools/kubernetes/cluster.sh status    what runs, the nodes; exit 0 = up and healthy, 1 = partly up/unhealthy, 3 = down
#   tools/kubernetes/cluster.sh kubeconfig | env | kubectl ARGS...
#
# Paths: binaries  $WSO2K8S_CACHE/kubernetes-1.34.4/bin   (WSO2K8S_CACHE=/var/cache/wso2-kubernetes)
#        state     $WSO2K8S_STATE/cluster                  (WSO2K8S_STATE=/var/lib/wso2-kubernetes): etcd/, pki/, log/
#        kubeconfig $WSO2K8S_STATE/cluster/kubeconfig      (CA and token kept across down/up/reset: same content)
#        Secrets' at-rest key $WSO2K8S_STATE/encryption/config.yaml (made once per machine, 0600, kept by reset)
# Knobs: NODES=1 (NODES=N: nodes 2..N in network + mount namespaces of their own, see nodes.sh),
#        NODE=0 (control plane only), PROXY=0 (no kube-proxy/NodePorts), API_PORT=16443, ETCD_PORT=23790,
#        NODE_IP=10.245.0.1, REGISTRIES="127.0.0.1:5000 localhost:5000" (plain-HTTP registries for containerd).
# See README.md next to this file for the traps.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
LOG_TAG=cluster; . "$HERE/../lib.sh"
STATE=${WSO2K8S_STATE:-/var/lib/wso2-kubernetes}
CACHE=${WSO2K8S_CACHE:-/var/cache/wso2-kubernetes}
K8S_VERSION=1.34.4
BIN=${K8S_BIN:-$CACHE/kubernetes-$K8S_VERSION/bin}
KC=$STATE/cluster
RUN=$KC/run
P=$KC/pki
K=$KC/kubeconfig
NODE=${NODE:-1}; PROXY=${PROXY:-1}; NODES=${NODES:-1}
ETCD_PORT=${ETCD_PORT:-23790}; API_PORT=${API_PORT:-16443}
NODE_IP=${NODE_IP:-10.245.0.1}        # alias put on lo: kubelet refuses a loopback node IP; pods reach the API here
API_BIND=${API_BIND:-0.0.0.0}         # the API must answer on 127.0.0.1 (kubeconfig) and $NODE_IP (pods via 10.0.0.1)
SERVICE_CIDR=10.0.0.0/24; POD_CIDR=10.244.0.0/24   # node 1's pods; node i (NODES>1) gets 10.244.<i-1>.0/24
# several nodes: a lost node turns NotReady 16 s after its last status (kubelets report every 2 s), not 50 s
NODE_GRACE=(); [ "$NODES" = 1 ] || NODE_GRACE=(--node-monitor-grace-period=16s)
CLUSTER_CIDR=$([ "$NODES" = 1 ] && echo "$POD_CIDR" || echo 10.244.0.0/16)   # kube-proxy: traffic from pods is not masqueraded
DNS_IP=10.0.0.10; CLUSTER_DOMAIN=cluster.local   # CoreDNS behind Service kube-system/kube-dns
PAUSE_IMAGE=docker.io/local/pause:3.10; COREDNS_IMAGE=docker.io/local/coredns:1.15.0
NODE_NAME=wso2k8s-node
ENC=$STATE/encryption   # outside $KC: reset keeps it (the key is per machine)
REGISTRIES=${REGISTRIES-127.0.0.1:5000 localhost:5000}
PKGS=(etcd-server containerd runc containernetworking-plugins iptables iproute2 conntrack openssl curl python3 kmod)
iptables -V 2>/dev/null | grep -q nf_tables && PKGS+=(nftables)   # down deletes emptied tables with nft
# a static busybox goes into the local/busybox:1 test image: Debian's busybox-static unless /bin/busybox already is static
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || PKGS+=(busybox-static)
# sysctls that kubelet (kernel tunables), kube-proxy (route_localnet) or the CNI bridge (ip_forward) may change
SYSCTLS="net.ipv4.conf.all.route_localnet net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic
 kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.bridge.bridge-nf-call-iptables
 net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_max"
# host paths kubelet/containerd/CNI create outside the state dir; removed by `down` if `up` found them absent
# (kubelet's device-plugin socket dir is hard-wired to /var/lib/kubelet/device-plugins; /var/log/pods too)
HOST_DIRS="/var/log/pods /var/log/containers /var/lib/cni /var/lib/kubelet /usr/libexec/kubernetes /usr/libexec /run/netns"

kubectl_() { "$BIN/kubectl" --kubeconfig="$K" "$@"; }
curl_() { curl -A wso2k8s-tools "$@"; }   # never curl's own User-Agent: see README (pretty-print crash)

lock() {  # one up/down at a time; fd 9 is closed for every daemon (else they would hold the lock forever)
  mkdir -p "$STATE"; exec 9>"$STATE/cluster.lock"
  flock -n 9 || { log "another cluster.sh up/down runs; waiting for it"; flock 9; }
}

# --- processes: started in their own session, pid recorded; "ours" = recorded pid whose argv[0] is what we ran ---
bg() {
  local name=$1; shift
  local exe; exe=$(command -v "$1") || die "$1 not found"; shift
  rm -f "$RUN/$name.pid"; echo "$exe" >"$RUN/$name.exe"
  # BG_WRAP: words put before the daemon (nodes.sh: nsenter into a node's namespaces), an array
  setsid ${BG_WRAP[@]+"${BG_WRAP[@]}"} "$LIB_DIR/detach.sh" "$RUN/$name.pid" "$exe" "$@" >"$KC/log/$name.log" 2>&1 </dev/null 9>&- &
  for _ in $(seq 1 100); do [ -s "$RUN/$name.pid" ] && break; sleep 0.02; done
  grep -qx "$name" "$RUN/components" 2>/dev/null || echo "$name" >>"$RUN/components"
}
pid_of() {  # prints the pid if the component runs and is ours
  local f=$RUN/$1.pid p; [ -s "$f" ] || return 1; p=$(cat "$f")
  [ "$({ tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null | head -1)" = "$(cat "$RUN/$1.exe" 2>/dev/null)" ] && echo "$p"
}
stop() {  # stop NAME...: SIGTERM to all of them at once, wait up to STOP_WAIT tenths of a second (100), then SIGKILL
  local n p pids=() names=() killed wait=${STOP_WAIT:-100}
  for n; do if p=$(pid_of "$n"); then pids+=("$p"); names+=("$n"); fi; rm -f "$RUN/$n.pid"; done
  killed=$(stop_pids "$wait" ${pids[@]+"${pids[@]}"})
  for p in $killed; do [ "$wait" -lt 50 ] || log "pid $p (${names[*]}) did not stop in time: SIGKILL"; done
}
wait_for() {  # wait_for NAME TENTHS COMPONENT COMMAND...: until COMMAND succeeds; COMPONENT ('' for none) dying ends it
  local name=$1 tenths=$2 comp=$3; shift 3
  for _ in $(seq 1 "$tenths"); do
    if "$@" >/dev/null 2>&1; then log "$name ready"; return 0; fi
    if [ -n "$comp" ] && ! pid_of "$comp" >/dev/null; then break; fi   # the process died: no point waiting
    sleep 0.1
  done
  [ -n "$comp" ] && { echo "--- last lines of $KC/log/$comp.log:" >&2; tail -15 "$KC/log/$comp.log" >&2; }
  die "$name not ready (logs: $KC/log; clean up with: $0 down)"
}

apiserver_ready() { curl_ -sf -m 2 --cacert "$P/ca.crt" -H "Authorization: Bearer $(cut -d, -f1 "$P/tokens.csv")" "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1; }
coredns_ready() { [ "$(kubectl_ -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
node_ready() { [ "$(kubectl_ get node "${1:-$NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }

is_up() {  # every recorded component runs, the API is ready and the node (if any) is Ready
  [ -f "$RUN/up-complete" ] || return 1
  local c; while read -r c; do pid_of "$c" >/dev/null || return 1; done <"$RUN/components"
  apiserver_ready || return 1
  if grep -qx kubelet "$RUN/components"; then node_ready || return 1; fi
  local i; for i in $(recorded_nodes); do node_ready "$(node_name "$i")" || return 1; done
}

# Secrets are encrypted at rest (secretbox, XSalsa20-Poly1305) with a key made once per machine, kept outside
# the repo and outside the cluster dir (reset keeps it). identity last: data written before encryption stays readable.
encryption_config() {
  [ -s "$ENC/config.yaml" ] && return 0
  log "creating the at-rest encryption key for Secrets in $ENC/config.yaml (once per machine, mode 0600)"
  mkdir -p "$ENC"; chmod 700 "$ENC"
  (umask 077; cat >"$ENC/config.yaml.tmp" <<ENCCFG
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - secretbox:
      keys: [{name: key1, secret: "$(head -c 32 /dev/urandom | base64 -w0)"}]
  - identity: {}
ENCCFG
  )
  mv "$ENC/config.yaml.tmp" "$ENC/config.yaml"
}
# Secrets written before encryption was on (etcd data kept from such a run) are rewritten once, encrypted.
encrypt_existing_secrets() {
  [ -f "$KC/etcd.encrypted" ] && return 0
  if [ -n "$(kubectl_ get secrets -A -o name)" ]; then
    log "rewriting existing Secrets once, so they are stored encrypted"
    kubectl_ get secrets -A -o json | kubectl_ replace -f - >/dev/null
  fi
  touch "$KC/etcd.encrypted"
}

. "$HERE/nodes.sh"

ipt_norm() { "$1-save" 2>/dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/' || true; }

# --- per-node configuration (node 1 on the host; nodes 2..N of nodes.sh use the same) ---
cni_conflist() {  # cni_conflist SUBNET IPAM_DIR
  cat <<CNI
{"cniVersion":"0.4.0","name":"wso2k8s","plugins":[
 {"type":"bridge","bridge":"wso2k8s0","isGateway":true,"isDefaultGateway":true,"ipMasq":false,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"$1"}]],"dataDir":"$2"}},
 {"type":"portmap","capabilities":{"portMappings":true}},{"type":"loopback"}]}
CNI
}
containerd_toml() {  # containerd_toml DIR: root/state/socket/runc/CNI of one node under DIR
  cat <<CTD
version = 2
root = "$1/containerd/root"
state = "$1/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$1/containerd.sock"
[ttrpc]
  address = "$1/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$1/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"   # the only place the sandbox image is set (kubelet flag gone)
  restrict_oom_score_adj = true   # no CAP_SYS_RESOURCE in this VM: runc cannot set oom_score_adj=-998
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "$1/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$1/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$KC/certs.d"
CTD
}
kubelet_yaml() {  # kubelet_yaml NODE_IP DIR [CGROUP_ROOT]
  cat <<KL
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $1
port: 10350
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10348
containerRuntimeEndpoint: unix://$2/containerd.sock   # the --container-runtime* flags are gone
failCgroupV1: false             # this host is cgroup v1: the 1.34 default, said explicitly (1.35 flips it)
clusterDNS: ["$DNS_IP"]
clusterDomain: $CLUSTER_DOMAIN
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failSwapOn: false
nodeStatusUpdateFrequency: 2s   # default 10s: Ready would be reported ~10 s after registration
makeIPTablesUtilChains: $([ "$PROXY" = 1 ] && echo true || echo false)
volumePluginDir: $2/kubelet-volume-plugins
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
KL
  [ -z "${3:-}" ] || echo "cgroupRoot: $3   # its own: two kubelets on one /kubepods kill each other's pods as orphans"
}
kube_proxy_yaml() {  # kube_proxy_yaml KUBECONFIG NODE_NAME NODEPORT_ADDRESSES
  cat <<KP
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $1}
mode: iptables
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10356
metricsBindAddress: 127.0.0.1:10349
clusterCIDR: $CLUSTER_CIDR
hostnameOverride: $2
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
nodePortAddresses: [$3]
KP
}
forward_accept() {  # dockerd's FORWARD policy is DROP: let pod traffic through IFACE (recorded; down removes it)
  local d; for d in -i -o; do
    iptables -C FORWARD $d "$1" -m comment --comment "wso2k8s: pod traffic" -j ACCEPT 2>/dev/null ||
      { iptables -I FORWARD 1 $d "$1" -m comment --comment "wso2k8s: pod traffic" -j ACCEPT && echo "$d $1" >>"$RUN/forward-rules"; }
  done
}
# =====================================================================================================
cmd_build() {
  mkdir -p "$CACHE"; exec 8>"$CACHE/kubernetes-$K8S_VERSION.lock"
  flock -n 8 || { log "another build runs; waiting for it"; flock 8; }
  WSO2K8S_CACHE=$CACHE OUT=$BIN "$HERE/build.sh"
}

cmd_up() {
  lock
  nodes_validate
  local mode="NODE=$NODE PROXY=$PROXY VERSION=$K8S_VERSION"; [ "$NODES" = 1 ] || mode="$mode NODES=$NODES"
  if is_up && [ "$(cat "$RUN/mode" 2>/dev/null)" != "$mode" ]; then
    log "running with $(cat "$RUN/mode" 2>/dev/null), asked for $mode: restarting"; do_down
  elif is_up; then
    log "already up ($(wc -l <"$RUN/components") components running)"
    echo "KUBECONFIG=$K"; return 0
  fi
  if [ -d "$RUN" ]; then log "found a partial or stale cluster: cleaning it up first"; do_down; fi
  local c; for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl pause coredns; do
    [ -x "$BIN/$c" ] || { log "Kubernetes binaries missing in $BIN: building them now (~25 min cold)"; cmd_build; break; }
  done
  mkdir -p "$KC" "$P"
  ensure_pkgs "$KC/apt.log" "${PKGS[@]}"
  modprobe br_netfilter 2>/dev/null || true; modprobe overlay 2>/dev/null || true
  mkdir -p "$RUN" "$KC/log"
  rm -rf "$KC/log.prev"; [ -n "$(ls -A "$KC/log")" ] && mv "$KC/log" "$KC/log.prev" && mkdir -p "$KC/log"
  : >"$RUN/components"; echo "$mode" >"$RUN/mode"
  # host state before we touch anything: down restores it and checks iptables against it
  for t in iptables ip6tables; do ipt_norm $t >"$RUN/$t.before"; done
  local s; for s in $SYSCTLS; do v=$(sysctl -n "$s" 2>/dev/null) && printf '%s\t%s\n' "$s" "$v" || true; done >"$RUN/sysctl.before"
  local d; for d in $HOST_DIRS; do [ -e "$d" ] || echo "$d"; done >"$RUN/created-dirs"
  ls /sys/fs/cgroup/*/kubepods -d 2>/dev/null >"$RUN/cgroups.before" || true
  { find /run/netns -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null || true; } | sort >"$RUN/netns.before"

  # --- certificates: self-signed CA, apiserver cert for 127.0.0.1/$NODE_IP/10.0.0.1, SA key, static admin token ---
  if [ ! -f "$P/tokens.csv" ]; then
    log "creating CA, apiserver certificate, service-account key, admin token in $P"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 3650 -subj /CN=wso2k8s-ca 2>/dev/null
    printf 'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1,IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$NODE_IP" >"$P/ext"
    openssl req -newkey rsa:2048 -nodes -keyout "$P/apiserver.key" -out "$P/apiserver.csr" -subj /CN=kube-apiserver 2>/dev/null
    openssl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/apiserver.crt" -days 3650 -extfile "$P/ext" 2>/dev/null
    openssl genrsa -out "$P/sa.key" 2048 2>/dev/null; openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
    echo "$(openssl rand -hex 24),admin,admin,system:masters" >"$P/tokens.csv"
    chmod 600 "$P"/*.key "$P/tokens.csv"
  fi
  local TOKEN; TOKEN=$(cut -d, -f1 "$P/tokens.csv")
  cat >"$K" <<KCFG
apiVersion: v1
kind: Config
clusters: [{name: wso2k8s, cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority-data: "$(base64 -w0 "$P/ca.crt")"}}]
users: [{name: admin, user: {token: "$TOKEN"}}]
contexts: [{name: wso2k8s, context: {cluster: wso2k8s, user: admin}}]
current-context: wso2k8s
KCFG
  chmod 600 "$K"

  # --- etcd (Debian etcd-server 3.4) ---
  # etcd data is kept across down/up; data written by another Kubernetes minor version is not reused
  local minor=${K8S_VERSION%.*}
  if [ -d "$KC/etcd" ] && [ "$(cat "$KC/etcd.k8s-version" 2>/dev/null)" != "$minor" ]; then
    log "etcd data in $KC/etcd was written by Kubernetes $(cat "$KC/etcd.k8s-version" 2>/dev/null || echo 'an unknown version'), not $minor: starting empty"
    rm -rf "$KC/etcd" "$KC/etcd.encrypted"
  fi
  [ -d "$KC/etcd" ] && log "reusing the cluster's etcd data ($KC/etcd; '$0 reset' starts empty)"
  echo "$minor" >"$KC/etcd.k8s-version"
  encryption_config
  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  bg etcd etcd --name wso2k8s --data-dir "$KC/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT+10))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT+10))" --initial-cluster "wso2k8s=http://127.0.0.1:$((ETCD_PORT+10))" \
    --listen-metrics-urls "http://127.0.0.1:$((ETCD_PORT+20))"
  wait_for etcd 300 etcd curl_ -sf -m 1 "http://127.0.0.1:$ETCD_PORT/health"

  # --- kube-apiserver: advertises $NODE_IP, so endpoints/kubernetes = $NODE_IP:$API_PORT and kube-proxy routes
  #     pods' 10.0.0.1:443 there. The lo alias must exist before it starts. ---
  if ! grep -q " $NODE_IP/" <<<"$(ip -4 addr show dev lo)"; then ip addr add "$NODE_IP/32" dev lo; touch "$RUN/lo-alias"; fi
  log "starting kube-apiserver on $API_BIND:$API_PORT (RBAC)"
  bg kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address="$API_BIND" --secure-port="$API_PORT" --advertise-address="$NODE_IP" \
    --encryption-provider-config="$ENC/config.yaml" \
    --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" --token-auth-file="$P/tokens.csv" \
    --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" --service-account-issuer=https://kubernetes.default.svc \
    --service-cluster-ip-range="$SERVICE_CIDR" --service-node-port-range=30000-32767 --authorization-mode=RBAC --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP --profiling=false
  wait_for kube-apiserver 900 kube-apiserver apiserver_ready
  if [ "$NODE" != 1 ]; then finish_up; return 0; fi

  # --- controllers (RC/Deployment -> pods, endpoints, service-account tokens, GC) + scheduler ---
  log "starting kube-controller-manager, kube-scheduler"
  bg kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$K" --authentication-kubeconfig="$K" --authorization-kubeconfig="$K" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port=$((API_PORT+1)) --service-account-private-key-file="$P/sa.key" \
    --root-ca-file="$P/ca.crt" --service-cluster-ip-range="$SERVICE_CIDR" --controllers='*,-nodeipam' \
    --flex-volume-plugin-dir="$KC/kcm-volume-plugins" ${NODE_GRACE[@]+"${NODE_GRACE[@]}"}
  bg kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$K" --authentication-kubeconfig="$K" --authorization-kubeconfig="$K" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port=$((API_PORT+2))

  # --- containerd (Debian 1.6, CRI) + CNI bridge; pulls from the plain-HTTP local registry ---
  mkdir -p "$KC/cni" "$KC/img"
  cni_conflist "$POD_CIDR" "$KC/cni/ipam" >"$KC/cni/10-wso2k8s.conflist"
  containerd_toml "$KC" >"$KC/containerd.toml"
  # one hosts.toml per registry, read at each pull. containerd 1.6.20 rejects a file with only `server = ...`
  # ("invalid `host` tree") and silently falls back to https: the [host."http://..."] table is required.
  rm -rf "$KC/certs.d"
  for r in $REGISTRIES; do
    mkdir -p "$KC/certs.d/$r"
    printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$r" "$r" >"$KC/certs.d/$r/hosts.toml"
  done
  # dockerd sets the FORWARD policy to DROP and br_netfilter sends bridged pod<->pod frames through FORWARD:
  # without these, pod->pod and pod->ClusterIP->pod time out
  forward_accept wso2k8s0
  # extra nodes (NODES>1): namespaces before any containerd runs, so none of its mounts is copied into theirs
  extra_nodes_prepare
  log "starting containerd"
  bg containerd containerd --config "$KC/containerd.toml"
  extra_nodes_start_containerd
  wait_for containerd 300 containerd ctr -a "$KC/containerd.sock" version
  # images that cannot be pulled here: pause (sandbox) and a busybox for quick tests (local/busybox:1)
  rm -rf "$KC/img"; mkdir -p "$KC/img/pause" "$KC/img/bb/bin" "$KC/img/bb/www" "$KC/img/bb/tmp"
  cp "$BIN/pause" "$KC/img/pause/pause"
  mkdir -p "$KC/img/dns"; cp "$BIN/coredns" "$KC/img/dns/coredns"
  cp /bin/busybox "$KC/img/bb/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$KC/img/bb/bin/$a"; done
  echo "hello from a wso2k8s pod" >"$KC/img/bb/www/index.html"
  python3 "$HERE/mkimage.py" "$KC/img/pause.tar" "${PAUSE_IMAGE#docker.io/}" "$KC/img/pause" '["/pause"]' >/dev/null
  python3 "$HERE/mkimage.py" "$KC/img/busybox.tar" local/busybox:1 "$KC/img/bb" '["/bin/sh"]' >/dev/null
  python3 "$HERE/mkimage.py" "$KC/img/coredns.tar" "${COREDNS_IMAGE#docker.io/}" "$KC/img/dns" '["/coredns"]' >/dev/null
  for i in pause busybox coredns; do ctr -a "$KC/containerd.sock" -n k8s.io images import "$KC/img/$i.tar" >/dev/null; done
  log "images ${PAUSE_IMAGE#docker.io/}, local/busybox:1, ${COREDNS_IMAGE#docker.io/} imported"

  # --- kubelet ---
  kubelet_yaml "$NODE_IP" "$KC" >"$KC/kubelet.yaml"
  log "starting kubelet (node $NODE_NAME, $NODE_IP)"
  bg kubelet "$BIN/kubelet" --kubeconfig="$K" --config="$KC/kubelet.yaml" --root-dir="$KC/kubelet" --cert-dir="$KC/kubelet/pki" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"

  # --- kube-proxy (iptables mode): NodePorts on 127.0.0.1 and $NODE_IP; Service IPs for pods ---
  if [ "$PROXY" = 1 ]; then
    kube_proxy_yaml "$K" "$NODE_NAME" '"127.0.0.0/8", "'"$NODE_IP/32"'"' >"$KC/kube-proxy.yaml"
    log "starting kube-proxy (iptables mode)"
    bg kube-proxy "$BIN/kube-proxy" --config="$KC/kube-proxy.yaml"
  fi
  extra_nodes_start
  wait_for "node $NODE_NAME (Ready)" 1200 kubelet node_ready
  [ "$PROXY" = 1 ] && wait_for kube-proxy 300 kube-proxy curl_ -sf -m 1 http://127.0.0.1:10356/healthz
  extra_nodes_wait
  forget_extra_nodes
  # pods are rejected until their namespace's ServiceAccount exists (tokens are projected now, no token Secret)
  wait_for "default service account" 300 "" kubectl_ -n default get sa default
  log "deploying CoreDNS (kube-system/coredns, Service kube-dns $DNS_IP, domain $CLUSTER_DOMAIN)"
  sed -e "s/__DNS_IP__/$DNS_IP/" -e "s/__DOMAIN__/$CLUSTER_DOMAIN/" -e "s#__IMAGE__#$COREDNS_IMAGE#" "$HERE/coredns.yaml" |
    kubectl_ apply -f - >/dev/null
  wait_for CoreDNS 900 "" coredns_ready
  encrypt_existing_secrets
  finish_up
}

finish_up() {
  touch "$RUN/up-complete"
  log "cluster up: $(xargs <"$RUN/components")"
  echo "KUBECONFIG=$K"
}

# =====================================================================================================
do_down() {  # called with the lock held
  local id sock i nodes_p=() nodes_c=()
  for i in $(recorded_nodes); do nodes_p+=("node$i-kube-proxy" "node$i-kubelet"); nodes_c+=("node$i-containerd"); done
  if pid_of kubelet >/dev/null && apiserver_ready; then
    # no new pods: stop the controllers first; then let kubelet tear pods down through CRI (CNI DEL, veths)
    stop kube-controller-manager kube-scheduler
    if [ -n "$(kubectl_ get pods -A -o name 2>/dev/null)" ]; then
      log "deleting all pods (kubelet tears them down)"
      kubectl_ delete pods --all -A --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
      for _ in $(seq 1 150); do
        local left=""; for sock in "$KC/containerd.sock" $(extra_node_sockets live); do
          left="$left$(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null)"; done
        [ -z "$left" ] && break; sleep 0.1
      done
    fi
  fi
  log "stopping kube-proxy, kubelet${nodes_p:+ (and those of nodes $(recorded_nodes | xargs))}"
  stop kube-proxy kubelet ${nodes_p[@]+"${nodes_p[@]}"}
  for sock in "$KC/containerd.sock" $(extra_node_sockets); do   # anything left: kill tasks, unpin network namespaces
    [ -S "$sock" ] && ctr -a "$sock" version >/dev/null 2>&1 || continue
    for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$id"; sleep 0.2; ctr -a "$sock" -n k8s.io tasks delete -f "$id"
    done >/dev/null 2>&1 || true
  done
  log "stopping containerd, kube-controller-manager, kube-scheduler, kube-apiserver, etcd"
  # the API server holds no state of its own (1 s grace, it would take ~6 s); etcd's data is kept, so it gets
  # its full grace period; containerd too, in parallel
  stop containerd ${nodes_c[@]+"${nodes_c[@]}"} & local cpid=$!
  STOP_WAIT=10 stop kube-controller-manager kube-scheduler kube-apiserver
  stop etcd
  wait "$cpid" || true
  log "all processes stopped; undoing host changes"
  # pinned network namespaces that appeared during the run
  local n; for n in $(comm -13 "$RUN/netns.before" <(find /run/netns -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort) 2>/dev/null); do
    # a pin can be mounted twice: `ip netns add` (NODES>1, or anyone's) bind-mounts /run/netns onto itself
    # recursively, copying the pins made before it; the hidden lower copy makes rm fail with EBUSY. Unmount until
    # gone; a name still busy elsewhere is said and kept, and the clean-up carries on
    case "$n" in cni-*) for _ in 1 2 3; do umount "/run/netns/$n" 2>/dev/null || break; done
                        rm -f "/run/netns/$n" 2>/dev/null || log "kept /run/netns/$n (busy elsewhere)";; esac
  done
  ip link show wso2k8s0 >/dev/null 2>&1 && ip link del wso2k8s0
  extra_nodes_undo
  undo_iptables
  log "iptables rules and chains removed"
  # sysctls back to their values before up
  local key v; if [ -f "$RUN/sysctl.before" ]; then
    while IFS=$'\t' read -r key v; do
      [ "$(sysctl -n "$key" 2>/dev/null)" = "$v" ] || { sysctl -qw "$key=$v" && log "sysctl $key restored to $v"; }
    done <"$RUN/sysctl.before"
  fi
  [ -f "$RUN/lo-alias" ] && { ip addr del "$NODE_IP/32" dev lo 2>/dev/null || true; }
  # mounts under the state dir (kubelet's rshared root dir, secrets tmpfs, container rootfs, shm)
  local m; while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done < <(awk -v k="$KC/" 'index($2, k) == 1 {print $2}' /proc/mounts | sort -r)
  # cgroups kubelet created (cgroupfs driver): remove the empty kubepods trees it left
  local cg; for cg in /sys/fs/cgroup/*/kubepods; do
    [ -d "$cg" ] || continue; grep -qx "$cg" "$RUN/cgroups.before" 2>/dev/null && continue
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  if [ -f "$RUN/created-dirs" ]; then
    while read -r d; do [ -n "$d" ] && [ -e "$d" ] || continue
      case "$d" in /run/netns|/usr/libexec) rmdir "$d" 2>/dev/null || true;; *) rm -rf --one-file-system "$d";; esac
    done <"$RUN/created-dirs"
  fi
  # per-run data; etcd/ (the cluster's objects), pki/ and kubeconfig stay (same CA and token on the next up),
  # logs stay in log/. Pods were deleted above, so no host-local IP allocation in cni/ is still in use.
  local t; for t in iptables ip6tables; do [ -f "$RUN/$t.before" ] && cp "$RUN/$t.before" "$KC/log/$t.before-up"; done
  rm -rf --one-file-system "$RUN" "$KC/containerd" "$KC/kubelet" "$KC/runc" "$KC/cni" "$KC/img" "$KC/certs.d" \
    "$KC"/containerd.sock* "$KC"/*.yaml "$KC"/containerd.toml "$KC/nodes" "$KC/kubeconfig-node" \
    "$KC/kcm-volume-plugins" "$KC/kubelet-volume-plugins"
  # verification: iptables as before up (counters ignored)
  for t in iptables ip6tables; do
    [ -f "$KC/log/$t.before-up" ] || continue
    if diff <(cat "$KC/log/$t.before-up") <(ipt_norm $t) >"$KC/log/$t.diff"; then log "$t: identical to before up"
    else log "WARNING: $t differs from before up (see $KC/log/$t.diff)"; fi
  done
}

# delete_rule IPTABLES TABLE SPEC: SPEC is a rule as `iptables -S` prints it (quoted comments included), split into
# words the way a shell would (Python's shlex), with no eval
delete_rule() {
  local words=()
  mapfile -t words < <(shell_words "$3")
  "$1" -t "$2" -D "${words[@]}"
}
undo_iptables() {  # remove what kubelet, kube-proxy, CNI and up added: rules jumping to KUBE-*/CNI-* chains that
                   # did not exist before up, those chains, and the FORWARD rules up recorded
  local ipt t line c chain new
  for ipt in iptables ip6tables; do
    local before=$RUN/$ipt.before; [ -f "$before" ] || before=/dev/null
    for t in filter nat mangle raw; do
      "$ipt" -t "$t" -S >/dev/null 2>&1 || continue
      new=$("$ipt" -t "$t" -S | awk '/^-N (KUBE|CNI)-/{print $2}' | while read -r c; do grep -qxF ":$c - [0:0]" "$before" || echo "$c"; done || true)
      [ -n "$new" ] || continue
      { "$ipt" -t "$t" -S | grep -E '^-A ' || true; } | while read -r line; do
        chain=$(awk '{print $2}' <<<"$line")
        grep -qxF "$chain" <<<"$new" && continue            # inside a new chain: flushed below
        c=$(sed -nE 's/.* -[jg] ((KUBE|CNI)-[^ ]+).*/\1/p' <<<"$line")
        [ -n "$c" ] && grep -qxF "$c" <<<"$new" && { delete_rule "$ipt" "$t" "${line#-A }" 2>/dev/null || true; }
      done
      for c in $new; do "$ipt" -t "$t" -F "$c" 2>/dev/null || true; done
      for c in $new; do "$ipt" -t "$t" -X "$c" 2>/dev/null || true; done
    done
  done
  # with the nf_tables backend an emptied table stays listed by iptables-save (kubelet creates `mangle` for its
  # canary chain): delete tables that did not exist before up and hold nothing any more
  if command -v nft >/dev/null; then
    for ipt in iptables ip6tables; do
      [ -f "$RUN/$ipt.before" ] || continue
      for t in filter nat mangle raw; do
        grep -qx "\*$t" "$RUN/$ipt.before" && continue
        local rules; rules=$("$ipt" -t "$t" -S 2>/dev/null | grep -vE '^-P ' || true)   # (no grep -q on pipes: SIGPIPE + pipefail)
        [ -z "$rules" ] || continue
        ipt_norm "$ipt" >"$RUN/ipt.now"; grep -qx "\*$t" "$RUN/ipt.now" || continue
        nft delete table "$([ $ipt = iptables ] && echo ip || echo ip6)" "$t" 2>/dev/null || true
      done
    done
  fi
  if [ -f "$RUN/forward-rules" ]; then
    while read -r d ifc; do iptables -D FORWARD "$d" "${ifc:-wso2k8s0}" -m comment --comment "wso2k8s: pod traffic" -j ACCEPT 2>/dev/null || true; done <"$RUN/forward-rules"
  fi
}

cmd_down() {
  lock
  if [ ! -d "$RUN" ]; then log "not up: nothing to do"; return 0; fi
  do_down
  log "down (etcd data kept in $KC/etcd)"
}

cmd_reset() {  # start empty on purpose: the cluster's objects go, the CA, token and at-rest key stay
  lock
  [ -d "$RUN" ] && do_down
  rm -rf --one-file-system "$KC/etcd" "$KC/etcd.encrypted" "$KC/etcd.k8s-version"
  log "reset: etcd data removed; the next up starts an empty cluster"
}

# =====================================================================================================
cmd_status() {
  if [ ! -s "$RUN/components" ]; then echo "cluster: down"; return 3; fi
  local c p bad=0
  while read -r c; do
    if p=$(pid_of "$c"); then printf '  %-24s running  pid %s\n' "$c" "$p"; else printf '  %-24s NOT RUNNING\n' "$c"; bad=1; fi
  done <"$RUN/components"
  if apiserver_ready; then echo "  api https://127.0.0.1:$API_PORT ready"; else echo "  api https://127.0.0.1:$API_PORT NOT READY"; bad=1; fi
  if grep -qx kubelet "$RUN/components"; then
    if [ -z "$(recorded_nodes)" ]; then
      if node_ready; then echo "  node $NODE_NAME Ready ($NODE_IP)"; else echo "  node $NODE_NAME NOT Ready"; bad=1; fi
    else nodes_status || bad=1; fi
    [ "$bad" = 0 ] && echo "  pods: $(kubectl_ get pods -A --no-headers 2>/dev/null | wc -l), services: $(kubectl_ get svc -A --no-headers 2>/dev/null | wc -l)"
    if coredns_ready; then
      echo "  dns: CoreDNS ready (kube-dns $DNS_IP, $CLUSTER_DOMAIN)"; else echo "  dns: CoreDNS NOT READY"; bad=1; fi
  fi
  [ -f "$RUN/up-complete" ] || { echo "  (up did not complete)"; bad=1; }
  echo "  kubeconfig: $K; etcd data: $KC/etcd; Secrets encrypted at rest ($ENC/config.yaml)"
  if [ "$bad" = 0 ]; then echo "cluster: up"; return 0; else echo "cluster: UNHEALTHY (try: $0 down && $0 up; logs: $KC/log)"; return 1; fi
}

need_root
case "${1:-}" in
  build) cmd_build ;;
  up) cmd_up ;;
  down) cmd_down ;;
  reset) cmd_reset ;;
  status) cmd_status ;;
  kubeconfig) echo "$K" ;;
  env) echo "export KUBECONFIG=$K PATH=$BIN:\$PATH" ;;
  kubectl) shift; exec "$BIN/kubectl" --kubeconfig="$K" "$@" ;;
  *) echo "usage: $0 build|up|down|reset|status|kubeconfig|env|kubectl ARGS" >&2; exit 2 ;;
esac
