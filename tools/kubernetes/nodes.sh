# shellcheck shell=bash
# Extra nodes for cluster.sh (sourced by it): NODES=N starts nodes 2..N beside the host's node 1.
#
# Node 1 is the host itself (kubelet on 10.245.0.1 on lo, bridge wso2k8s0, pods 10.244.0.0/24), as with one node.
# Node i (2..9) is a kubelet + kube-proxy + containerd of its own, in
#   - a network namespace wso2k8s-node<i>: eth0 = 10.245.0.<i>/32, a veth to the host (host side wso2k8s-v<i>),
#     default route via 10.245.0.1 (the host answers ARP for it); its own CNI bridge and pods 10.244.<i-1>.0/24;
#     kube-proxy's KUBE-* chains live in that namespace's iptables, never clashing with the host's;
#   - a mount namespace pinned at $RUN/mnt/<i>: kubelet hard-wires /var/lib/kubelet (device-plugins,
#     pod-resources), /var/log/pods and /var/log/containers, and CNI caches in /var/lib/cni: each node binds its
#     own directories over them, so two kubelets never share one;
#   - a cgroup root /wso2k8s-node<i> (cgroupRoot): both kubelets would otherwise own /kubepods and each would kill
#     the other's pods as orphans.
# The host routes 10.245.0.<i>/32 and 10.244.<i-1>.0/24 into the veth; FORWARD rules let the veths through
# (dockerd's DROP policy). `down` undoes all of it; nothing of a node outlives its mount namespace.

nodes_validate() {
  case "$NODES" in [1-9]) ;; *) die "NODES=$NODES: a whole number from 1 to 9 (node i gets 10.245.0.i and pods 10.244.<i-1>.0/24)";; esac
  [ "$NODES" = 1 ] || { [ "$NODE" = 1 ] && [ "$PROXY" = 1 ]; } || die "NODES=$NODES needs NODE=1 and PROXY=1 (every node runs a kubelet and a kube-proxy)"
  [ "$NODES" = 1 ] || [ "${NODE_IP%.*}" = 10.245.0 ] || die "NODES=$NODES needs NODE_IP in 10.245.0.0/24 (node i gets 10.245.0.i)"
}
node_name() { if [ "$1" = 1 ]; then echo "$NODE_NAME"; else echo "$NODE_NAME$1"; fi; }   # wso2k8s-node, wso2k8s-node2...
node_ip() { echo "10.245.0.$1"; }
node_cidr() { echo "10.244.$(($1 - 1)).0/24"; }
node_dir() { echo "$KC/nodes/$1"; }
extra_nodes() { [ "$NODES" -gt 1 ] && seq 2 "$NODES" || true; }
recorded_nodes() { cat "$RUN/extra-nodes" 2>/dev/null || true; }   # the extra nodes this run started
# kubelet hard-wired paths bound per node (created on the host if absent: `down` removes them then)
NODE_BINDS="/var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni"

# --- network + mount namespace + cgroup root of node i: before any containerd runs (so no container mount of
#     the host's is copied into the node's mount namespace) ---
node_prepare() {
  local i=$1 ns=wso2k8s-node$1 hv=wso2k8s-v$1 ip; ip=$(node_ip "$1")
  local D; D=$(node_dir "$i")
  echo "$i" >>"$RUN/extra-nodes"
  # leftovers of a run whose run dir is gone (names are ours alone)
  ip netns del "$ns" 2>/dev/null || true; ip link del "$hv" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "$hv" type veth peer name eth0 netns "$ns"
  ip link set "$hv" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip/32" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add "$NODE_IP/32" dev eth0
  ip -n "$ns" route add default via "$NODE_IP" dev eth0
  ip route replace "$ip/32" dev "$hv" src "$NODE_IP"
  ip route replace "$(node_cidr "$i")" via "$ip" dev "$hv"
  # forwarding between pods and the host inside the node; bridged pod->ClusterIP->pod needs br_netfilter there too
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  forward_accept "$hv"
  # cgroup root for this kubelet (cgroup v1: every hierarchy but the v2 one; cpuset needs cpus/mems filled)
  local c; for c in /sys/fs/cgroup/*/; do
    c=${c%/}; [ "${c##*/}" = unified ] && continue
    mkdir -p "$c/wso2k8s-node$i"
  done
  local cs=/sys/fs/cgroup/cpuset
  [ -d "$cs/wso2k8s-node$i" ] && cat "$cs/cpuset.cpus" >"$cs/wso2k8s-node$i/cpuset.cpus" && cat "$cs/cpuset.mems" >"$cs/wso2k8s-node$i/cpuset.mems"
  # mount namespace (slave: the host's later mounts show inside, the node's never leak out), pinned in $RUN/mnt
  local b binds=""; mkdir -p "$RUN/mnt"
  if ! mountpoint -q "$RUN/mnt"; then mount --bind "$RUN/mnt" "$RUN/mnt"; mount --make-private "$RUN/mnt"; fi
  for b in $NODE_BINDS; do mkdir -p "$b" "$D/host$b"; binds="$binds mount --bind $D/host$b $b;"; done
  touch "$RUN/mnt/$i"
  unshare --mount="$RUN/mnt/$i" --propagation slave sh -ec "$binds"
}

# run a daemon of node i inside its namespaces (bg with a wrapper; nsenter execs, so the recorded pid is the daemon)
# shellcheck disable=SC2034  # BG_WRAP is read by bg (cluster.sh), which this calls
node_bg() { local i=$1; shift; local BG_WRAP=(nsenter "--mount=$RUN/mnt/$i" "--net=/run/netns/wso2k8s-node$i" --); bg "$@"; }

node_start_containerd() {
  local i=$1 D; D=$(node_dir "$1")
  mkdir -p "$D/cni"
  cni_conflist "$(node_cidr "$i")" "$D/cni/ipam" >"$D/cni/10-wso2k8s.conflist"
  containerd_toml "$D" >"$D/containerd.toml"
  node_bg "$i" "node$i-containerd" containerd --config "$D/containerd.toml"
}

node_start_kubelet_proxy() {
  local i=$1 D ip name; D=$(node_dir "$1"); ip=$(node_ip "$1"); name=$(node_name "$1")
  wait_for "node$i containerd" 300 "node$i-containerd" ctr -a "$D/containerd.sock" version
  local img; for img in pause busybox coredns; do ctr -a "$D/containerd.sock" -n k8s.io images import "$KC/img/$img.tar" >/dev/null; done
  kubelet_yaml "$ip" "$D" "/wso2k8s-node$i" >"$D/kubelet.yaml"
  log "starting node $name ($ip, pods $(node_cidr "$i")): kubelet, kube-proxy"
  node_bg "$i" "node$i-kubelet" "$BIN/kubelet" --kubeconfig="$KC/kubeconfig-node" --config="$D/kubelet.yaml" \
    --root-dir="$D/kubelet" --cert-dir="$D/kubelet/pki" --hostname-override="$name" --node-ip="$ip"
  kube_proxy_yaml "$KC/kubeconfig-node" "$name" "\"$ip/32\"" >"$D/kube-proxy.yaml"
  node_bg "$i" "node$i-kube-proxy" "$BIN/kube-proxy" --config="$D/kube-proxy.yaml"
}

extra_nodes_prepare() {
  [ "$NODES" -gt 1 ] || return 0
  # the nodes reach the API on the host's node IP (in the apiserver certificate), not on their own 127.0.0.1
  sed "s#https://127.0.0.1:$API_PORT#https://$NODE_IP:$API_PORT#" "$K" >"$KC/kubeconfig-node"; chmod 600 "$KC/kubeconfig-node"
  local i; for i in $(extra_nodes); do node_prepare "$i"; done
}
extra_nodes_start_containerd() { local i; for i in $(extra_nodes); do node_start_containerd "$i"; done; }
extra_nodes_start() { local i; for i in $(extra_nodes); do node_start_kubelet_proxy "$i"; done; }
extra_nodes_wait() {
  local i; for i in $(extra_nodes); do
    wait_for "node $(node_name "$i") (Ready)" 1200 "node$i-kubelet" node_ready "$(node_name "$i")"
    wait_for "node$i kube-proxy" 300 "node$i-kube-proxy" ip netns exec "wso2k8s-node$i" curl -sf -m 1 http://127.0.0.1:10356/healthz
  done
}
# Node objects of extra nodes a bigger earlier run registered (etcd keeps them): gone, or they stay NotReady forever
forget_extra_nodes() {
  local n keep=" " i
  for i in $(seq 1 "$NODES"); do keep="$keep$(node_name "$i") "; done
  for n in $(kubectl_ get nodes -o name 2>/dev/null | sed 's#^node/##' | grep -E "^${NODE_NAME}[2-9]\$" || true); do
    case "$keep" in *" $n "*) ;; *) log "deleting node $n (left by an earlier NODES run)"; kubectl_ delete node "$n" >/dev/null;; esac
  done
}

# --- down: processes first (cluster.sh stops them), then this undoes the host side ---
extra_node_sockets() {  # [live]: only nodes whose kubelet runs (a lost node's pods are never torn down by it)
  local i; for i in $(recorded_nodes); do
    [ "${1:-}" = live ] && ! pid_of "node$i-kubelet" >/dev/null && continue
    echo "$(node_dir "$i")/containerd.sock"
  done
}
extra_nodes_undo() {
  local i c
  for i in $(recorded_nodes); do
    ip netns del "wso2k8s-node$i" 2>/dev/null || true
    ip link show "wso2k8s-v$i" >/dev/null 2>&1 && ip link del "wso2k8s-v$i"   # takes its routes with it
  done
  # the cgroup roots up made, and what kubelet/runc made under them (also in the v2 `unified` hierarchy of this
  # hybrid host, which up did not make): the name is ours alone
  for i in $(recorded_nodes); do
    for c in /sys/fs/cgroup/*/wso2k8s-node"$i"; do [ -d "$c" ] && { find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true; }; done
  done
  # the pinned mount namespaces ($RUN/mnt/<i>) are unmounted with everything else under $KC
}

nodes_status() {  # one line per node (name, Ready or not, address, cordoned); returns 1 if one is not Ready
  local bad=0 n ready ip unsched
  while read -r n ready ip unsched; do
    printf '  node %-16s %s (%s)%s\n' "$n" "$([ "$ready" = True ] && echo Ready || echo 'NOT Ready')" "$ip" \
      "$([ "$unsched" = true ] && echo ', cordoned' || true)"
    [ "$ready" = True ] || bad=1
  done < <(kubectl_ get nodes --no-headers -o custom-columns='N:.metadata.name,S:.status.conditions[?(@.type=="Ready")].status,IP:.status.addresses[?(@.type=="InternalIP")].address,U:.spec.unschedulable' 2>/dev/null)
  return $bad
}
