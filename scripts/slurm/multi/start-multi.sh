#!/bin/bash
# Start a REAL multi-node Slurm 22.05 cluster on one Linux machine, as root, without systemd/cgroups.
#  * "nodes" are network namespaces slm-node1..N (+ a private UTS namespace per slurmd, hostname nodeN),
#    each with one veth into a private bridge (slmbr0, 10.251.0.1/24) in the root namespace.
#    No default route, no NAT, no forwarding: namespace hosts can reach only 10.251.0.0/24.
#  * one munged (its socket lives under $BASE; a path-based unix socket is reachable from every network
#    namespace, they all see the same filesystem), slurmctld in the root namespace, bound to 10.251.0.1
#    only, and one slurmd per node namespace.
#  * cluster names (slm-ctld, node1..N) resolve through /etc/hosts lines tagged "# slurm-multi:$BASE"
#    (removed by stop-multi.sh), so IPv4 lookups of them are answered locally, never by DNS.
# Used by the test fixture executorlab/tests/slurm_multi.py (one cluster per test session); from the reference
# recipe for a multi-node Slurm on one machine, with only the default BASE changed.
# Usage:  [BASE=/tmp/executorlab-test-slurm-multi] [NODES=2] [CPUS_PER_NODE=2] ./start-multi.sh
# Knobs:  CTLD_PORT=7017 SLURMD_PORT=7018 NET_PREFIX=10.251.0 BRIDGE=slmbr0 NS_PREFIX=slm-node
#         NODE_PREFIX=node MPI_DEFAULT=none|pmix SCHED_PARAMS=... SLURMD_TIMEOUT=30 TIMEOUT=60
#         HOSTS_FILE=/etc/hosts (set HOSTS_FILE= to skip the /etc/hosts entries)
# Afterwards:  export SLURM_CONF=$BASE/etc/slurm.conf ; stop with stop-multi.sh (same BASE)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${BASE:-/tmp/executorlab-test-slurm-multi}
NODES=${NODES:-2}
CPUS_PER_NODE=${CPUS_PER_NODE:-2}
CTLD_PORT=${CTLD_PORT:-7017}
SLURMD_PORT=${SLURMD_PORT:-7018}
NET_PREFIX=${NET_PREFIX:-10.251.0}          # a /24; .1 = bridge (slurmctld), .11.. = nodes
BRIDGE=${BRIDGE:-slmbr0}
# Guard first, before anything can name the test subnet: it is unreachable from the root namespace
# except through our bridge. The bridge's connected route (metric 0) wins while it exists; once it is
# gone (stop, crash, a half-failed start) a client still holding an old address gets "unreachable" at
# once and nothing leaves the machine through the default route. The guard stays in place on purpose.
ip route replace unreachable "${NET_PREFIX:-10.251.0}.0/24" metric 4095
NS_PREFIX=${NS_PREFIX:-slm-node}
VETH_PREFIX=${VETH_PREFIX:-slmv}            # root-side veth ends: slmv1, slmv2, ...; inside: slm0
NODE_PREFIX=${NODE_PREFIX:-node}
CTLD_ALIAS=${CTLD_ALIAS:-slm-ctld}          # /etc/hosts name of the bridge address
CLUSTER_NAME=${CLUSTER_NAME:-slmmulti}
MPI_DEFAULT=${MPI_DEFAULT:-none}
SCHED_PARAMS=${SCHED_PARAMS:-batch_sched_delay=0,sched_interval=1,bf_interval=1,sched_min_interval=0}
SLURMD_TIMEOUT=${SLURMD_TIMEOUT:-30}
HOSTS_FILE=${HOSTS_FILE-/etc/hosts}
MEM_MB=${MEM_MB:-$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 / 2 / NODES ))}
TIMEOUT=${TIMEOUT:-60}
CONF=$BASE/etc/slurm.conf
PIDS=$BASE/run/pids          # "name pid" lines, consumed by stop-multi.sh
NETREC=$BASE/run/net         # "kind name" lines (bridge/netns/veth/hosts), consumed by stop-multi.sh
TAG="# slurm-multi:$BASE"
CTLD_ADDR=$NET_PREFIX.1
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

t0=$(date +%s.%N)
now() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }
log() { echo "[start-multi +$(now)s] $*"; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q "^State:.*Z" /proc/"$1"/status 2>/dev/null; }
pid_of() { awk -v n="$1" '$1==n{print $2}' "$PIDS"; }
LOGS_FRESH=0
die() {
  echo "[start-multi] ERROR: $*" >&2
  if [ "$LOGS_FRESH" = 1 ]; then
    for f in "$BASE"/log/*; do [ -f "$f" ] || continue; echo "--- $f" >&2; tail -n 20 "$f" >&2 || true; done
  fi
  if [ "$LOGS_FRESH" = 1 ] && [ "${KEEP_ON_ERROR:-0}" != 1 ]; then
    echo "[start-multi] cleaning up with stop-multi.sh" >&2; BASE=$BASE "$HERE/stop-multi.sh" >&2 || true
  fi
  exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, bridge)"
case "$NODES" in ''|*[!0-9]*) die "NODES must be a number";; esac
[ "$NODES" -ge 1 ] && [ "$NODES" -le 200 ] || die "NODES must be 1..200"
for b in munged slurmctld slurmd; do [ -x /usr/sbin/$b ] || die "/usr/sbin/$b missing (apt-get install munge slurmctld slurmd slurm-client)"; done
[ -e /usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so ] || echo "[start-multi] WARNING: libpmix.so missing: 'apt-get install libpmix-dev' for srun --mpi=pmix" >&2

# ---------------- refuse to start over a previous instance ----------------
if [ -s "$PIDS" ]; then
  while read -r name pid; do
    alive "$pid" && die "$name (pid $pid) from a previous start is still running; run stop-multi.sh first"
  done < "$PIDS"
fi
[ -s "$NETREC" ] && die "$NETREC lists network objects of a previous start; run BASE=$BASE stop-multi.sh first"
ip link show "$BRIDGE" >/dev/null 2>&1 && die "interface $BRIDGE already exists (not recorded by us); refusing to touch it"
for i in $(seq 1 "$NODES"); do
  ip netns list | awk '{print $1}' | grep -qx "$NS_PREFIX$i" && die "network namespace $NS_PREFIX$i already exists"
  ip link show "$VETH_PREFIX$i" >/dev/null 2>&1 && die "interface $VETH_PREFIX$i already exists"
done
# the subnet must be unused in the root namespace (no address, no route other than the default one)
ip -4 -o addr show | awk '{print $4}' | grep -q "^${NET_PREFIX//./\\.}\." && die "an interface already has an address in $NET_PREFIX.0/24"
ip -4 route show | grep -q "^${NET_PREFIX//./\\.}\." && die "a route into $NET_PREFIX.0/24 already exists"
if [ -n "$HOSTS_FILE" ]; then
  grep -qF "$TAG" "$HOSTS_FILE" && die "$HOSTS_FILE still has lines tagged '$TAG'; run stop-multi.sh first"
  for n in "$CTLD_ALIAS" $(for i in $(seq 1 "$NODES"); do echo "$NODE_PREFIX$i"; done); do
    awk -v n="$n" '!/^[[:space:]]*#/{for(i=2;i<=NF;i++) if($i==n) f=1} END{exit !f}' "$HOSTS_FILE" \
      && die "'$n' is already defined in $HOSTS_FILE"
  done
fi
for port in "$CTLD_PORT"; do
  ss -Hltn "sport = :$port" | grep -q . && die "TCP port $port is already in use in the root namespace"
done

rm -rf "$BASE/state" "$BASE/run" "$BASE/log" "$BASE/tmp"
LOGS_FRESH=1
mkdir -p "$BASE/etc" "$BASE/state/ctld" "$BASE/run/munge" "$BASE/log" "$BASE/jobs"
chmod 0755 "$BASE" "$BASE/run" "$BASE/run/munge"   # clients (any uid) need +x to reach the socket
: > "$PIDS"; : > "$NETREC"
: > "$BASE/etc/plugstack.conf"

# ---------------- network: bridge + one namespace per node ----------------
# IPv6 is disabled on every interface we create before it goes up (no RS/DAD/MLD chatter).
ip link add "$BRIDGE" type bridge
echo "bridge $BRIDGE" >> "$NETREC"
sysctl -qw "net.ipv6.conf.$BRIDGE.disable_ipv6=1"
ip addr add "$CTLD_ADDR/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
NODE_NAMES=""; NODE_ADDRS=""
for i in $(seq 1 "$NODES"); do
  ns=$NS_PREFIX$i; veth=$VETH_PREFIX$i; addr=$NET_PREFIX.$((10 + i)); node=$NODE_PREFIX$i
  ip netns add "$ns"
  echo "netns $ns" >> "$NETREC"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip link add "$veth" type veth peer name slm0 netns "$ns"
  echo "veth $veth" >> "$NETREC"
  sysctl -qw "net.ipv6.conf.$veth.disable_ipv6=1"
  ip link set "$veth" master "$BRIDGE"
  ip link set "$veth" up
  ip -n "$ns" addr add "$addr/24" dev slm0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set slm0 up
  # deliberately NO default route: only 10.251.0.0/24 (connected route) is reachable from a node
  NODE_NAMES=${NODE_NAMES:+$NODE_NAMES,}$node
  NODE_ADDRS=${NODE_ADDRS:+$NODE_ADDRS,}$addr
done
if [ -n "$HOSTS_FILE" ]; then
  {
    echo "$CTLD_ADDR $CTLD_ALIAS $TAG"
    for i in $(seq 1 "$NODES"); do echo "$NET_PREFIX.$((10 + i)) $NODE_PREFIX$i $TAG"; done
  } > "$BASE/run/hosts.add"
  # append in place (keeps the inode: /etc/hosts may be a bind mount in containers)
  cat "$BASE/run/hosts.add" >> "$HOSTS_FILE"
  echo "hosts $HOSTS_FILE" >> "$NETREC"
fi
# bridge ports must be forwarding (STP is off, so they are at once); reachability is proven below
# when every slurmd registers with slurmctld over the bridge
for i in $(seq 1 "$NODES"); do
  st=$(cat "/sys/class/net/$VETH_PREFIX$i/brport/state" 2>/dev/null || echo '?')
  [ "$st" = 3 ] || die "bridge port $VETH_PREFIX$i is not forwarding (state $st)"
done
log "network up: $BRIDGE $CTLD_ADDR/24, nodes $NODE_NAMES = $NODE_ADDRS"

# ---------------- slurm.conf ----------------
if [ -n "$HOSTS_FILE" ]; then
  CTLD_HOST=$CTLD_ALIAS; COMM_PARAMS=NoCtldInAddrAny      # slurmctld binds $CTLD_ADDR only
else
  CTLD_HOST=localhost;   COMM_PARAMS=""                   # no name for the bridge address: bind 0.0.0.0
fi
sed -e "s|@BASE@|$BASE|g" -e "s|@CLUSTER_NAME@|$CLUSTER_NAME|g" \
    -e "s|@CTLD_HOST@|$CTLD_HOST|g" -e "s|@CTLD_ADDR@|$CTLD_ADDR|g" -e "s|@COMM_PARAMS@|$COMM_PARAMS|g" \
    -e "s|@CTLD_PORT@|$CTLD_PORT|g" -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" \
    -e "s|@CPUS_PER_NODE@|$CPUS_PER_NODE|g" -e "s|@MEM_MB@|$MEM_MB|g" \
    -e "s|@NODE_NAMES@|$NODE_NAMES|g" -e "s|@NODE_ADDRS@|$NODE_ADDRS|g" \
    -e "s|@MPI_DEFAULT@|$MPI_DEFAULT|g" -e "s|@SCHED_PARAMS@|$SCHED_PARAMS|g" \
    -e "s|@SLURMD_TIMEOUT@|$SLURMD_TIMEOUT|g" "$HERE/slurm.conf.template" > "$CONF.new"
[ -n "$COMM_PARAMS" ] || sed -i '/^CommunicationParameters=$/d' "$CONF.new"
mv -f "$CONF.new" "$CONF"    # replaces the stub that stop-multi.sh leaves (see there)
grep -v '^#' "$CONF" | grep -q '@[A-Z_]*@' && die "unfilled placeholder in $CONF: $(grep -o '@[A-Z_]*@' "$CONF" | sort -u | tr '\n' ' ')"
export SLURM_CONF=$CONF

# ---------------- munged (one for the whole cluster) ----------------
KEY=$BASE/etc/munge.key
[ -s "$KEY" ] || dd if=/dev/urandom of="$KEY" bs=1024 count=1 status=none
chown root:root "$KEY"; chmod 0600 "$KEY"       # munged refuses group/other-readable keys
SOCK=$BASE/run/munge/munge.socket.2
# --origin=127.0.0.1: the origin address is only informational, and 127.0.0.1 reverse-resolves from /etc/hosts
setsid /usr/sbin/munged -F --force --key-file="$KEY" --socket="$SOCK" \
    --pid-file="$BASE/run/munge/munged.pid" --log-file="$BASE/log/munged.log" \
    --seed-file="$BASE/run/munge/munged.seed" --origin=127.0.0.1 </dev/null >>"$BASE/log/munged.out" 2>&1 &
echo "munged $!" >> "$PIDS"
for _ in $(seq 1 $((TIMEOUT*10))); do
  munge -n -S "$SOCK" 2>/dev/null | unmunge -S "$SOCK" >/dev/null 2>&1 && break
  alive "$(pid_of munged)" || die "munged exited"
  sleep 0.05
done
munge -n -S "$SOCK" | unmunge -S "$SOCK" >/dev/null || die "munge self-test failed"
log "munged up"

# ---------------- slurmctld (root namespace) ----------------
# In its own UTS namespace with hostname $CTLD_HOST (network namespace = the root one): slurmctld accepts
# SlurmctldHost as its own name, and NoCtldInAddrAny binds the address that name resolves to.
setsid unshare --uts sh -c 'hostname "$1" && exec /usr/sbin/slurmctld -D -i -f "$2"' sh "$CTLD_HOST" "$CONF" \
    </dev/null >>"$BASE/log/slurmctld.out" 2>&1 &
echo "slurmctld $!" >> "$PIDS"
for _ in $(seq 1 $((TIMEOUT*20))); do
  scontrol ping 2>/dev/null | grep -q 'is UP' && break
  alive "$(pid_of slurmctld)" || die "slurmctld exited"
  sleep 0.05
done
scontrol ping | grep -q 'is UP' || die "slurmctld did not come up"
log "slurmctld up: $(ss -Hltn "sport = :$CTLD_PORT" | awk '{print $4}' | tr '\n' ' ')"

# ---------------- one slurmd per node namespace ----------------
# NOT 'ip netns exec': it also makes a private mount namespace with a fresh /sys, which hides
# /sys/fs/cgroup, and slurmd 22.05 then dies with "No filesystem mounted on /sys/fs/cgroup / Unable to
# initialize cgroup plugin". nsenter --net only switches the network namespace.
# setsid / nsenter (no --fork) / unshare (no --fork) / sh -c 'exec ...' all exec in place, so $! is slurmd's PID.
for i in $(seq 1 "$NODES"); do
  ns=$NS_PREFIX$i; node=$NODE_PREFIX$i
  mkdir -p "$BASE/state/slurmd-$node" "$BASE/tmp/$node"
  setsid nsenter --net="/run/netns/$ns" unshare --uts \
      sh -c 'hostname "$1" && exec /usr/sbin/slurmd -D -N "$1" -f "$2"' sh "$node" "$CONF" \
      </dev/null >>"$BASE/log/slurmd-$node.out" 2>&1 &
  echo "slurmd-$node $!" >> "$PIDS"
done
st=""
for _ in $(seq 1 $((TIMEOUT*20))); do
  st=$(sinfo -h -N -o '%N %T' 2>/dev/null | sort -u || true)
  nready=$(awk '$2 ~ /^(idle|mixed|allocated)$/' <<<"$st" | wc -l)
  [ "$nready" -eq "$NODES" ] && break
  for i in $(seq 1 "$NODES"); do alive "$(pid_of "slurmd-$NODE_PREFIX$i")" || die "slurmd for $NODE_PREFIX$i exited"; done
  sleep 0.05
done
[ "$nready" -eq "$NODES" ] || die "nodes not ready after ${TIMEOUT}s: $(echo $st)"
for i in $(seq 1 "$NODES"); do   # sanity: every slurmd really runs in its own namespace with its own hostname
  p=$(pid_of "slurmd-$NODE_PREFIX$i")
  [ "$(nsenter -t "$p" --uts hostname)" = "$NODE_PREFIX$i" ] || die "slurmd $p has hostname $(nsenter -t "$p" --uts hostname)"
  case "$(readlink /proc/$p/exe)" in   # Debian: /usr/sbin/slurmd -> alternatives -> slurmd-wlm
    */slurmd|*/slurmd-wlm) ;;
    *) die "pid $p is not slurmd: $(readlink /proc/$p/exe)";;
  esac
  [ "$(ip netns identify "$p")" = "$NS_PREFIX$i" ] || die "slurmd $p is not in netns $NS_PREFIX$i"
done
log "cluster up: $(echo $st)"
echo "export SLURM_CONF=$CONF"
