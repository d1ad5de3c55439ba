#!/bin/bash
# Stop the cluster started by start-multi.sh (same BASE) and remove its network pieces.
# Kills ONLY: the PIDs recorded in $BASE/run/pids, and processes living inside the network namespaces
# that start-multi.sh created (recorded in $BASE/run/net) - slurmstepds, job processes that escaped
# the process tree, helpers a test started there. Never kills by name. Removes exactly the recorded
# veths, namespaces, bridge and the /etc/hosts lines tagged "# slurm-multi:$BASE".
set -uo pipefail
BASE=${BASE:-/tmp/executorlab-test-slurm-multi}
PIDS=$BASE/run/pids
NETREC=$BASE/run/net
TAG="# slurm-multi:$BASE"
CONF=$BASE/etc/slurm.conf
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
t0=$(date +%s.%N)
now() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }
log() { echo "[stop-multi +$(now)s] $*"; }
[ -s "$PIDS" ] || [ -s "$NETREC" ] || { echo "[stop-multi] nothing recorded under $BASE/run"; exit 0; }
touch "$PIDS" "$NETREC"

# 0. First make $CONF unusable. Once the bridge is gone, 10.251.0.1 is no longer a local address and a
#    Slurm client still pointed at this config (a test run after stop) would send its connect() out via
#    the DEFAULT ROUTE (seen with tcpdump: SYNs to 10.251.0.1:7017 on eth0). A config that fails to parse
#    makes every client exit at once with no network I/O. (A *missing* file is worse: clients retry 60 s.)
#    Our own client calls below use a private copy.
if [ -f "$CONF" ] && ! grep -q '^SlurmMultiClusterIsStopped' "$CONF"; then
  cp -f "$CONF" "$BASE/etc/slurm.conf.last"
fi
export SLURM_CONF=$BASE/etc/slurm.conf.last
printf '%s\n' "# The cluster under $BASE is stopped (stop-multi.sh); its config is in slurm.conf.last." \
  "# This deliberately unparsable line makes clients fail fast without any network I/O." \
  "SlurmMultiClusterIsStopped=run_start-multi.sh" > "$CONF.stub"
mv -f "$CONF.stub" "$CONF"
pid_of() { awk -v n="$1" '$1==n{print $2}' "$PIDS"; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' /proc/"$1"/status 2>/dev/null; }
rec() { awk -v k="$1" '$1==k{print $2}' "$NETREC"; }

stop_pid() {  # name pid [grace-seconds]
  local name=$1 pid=$2 n=$(( ${3:-10} * 20 ))
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 "$n"); do alive "$pid" || { log "$name ($pid) stopped"; return 0; }; sleep 0.05; done
  log "$name ($pid) ignored SIGTERM, sending SIGKILL"; kill -KILL "$pid" 2>/dev/null
}

# 1. cancel all jobs while the daemons are still up, so the slurmstepds exit cleanly
if alive "$(pid_of slurmctld)"; then
  jobs=$(squeue -h -t PD,R,CG,S,CF -o %A 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    scancel --full --quiet $jobs 2>/dev/null || true
    for _ in $(seq 1 200); do
      [ -z "$(squeue -h -t PD,R,CG,S,CF -o %A 2>/dev/null)" ] && break; sleep 0.05
    done
    log "cancelled jobs: $jobs"
  fi
fi

# 2. slurmds (one per node namespace)
for name in $(awk '$1 ~ /^slurmd-/{print $1}' "$PIDS"); do stop_pid "$name" "$(pid_of "$name")" 10; done

# 3. whatever still lives in OUR namespaces (orphaned slurmstepds ignore SIGTERM; escaped job
#    processes; helpers started with 'ip netns exec'): SIGKILL, repeat until empty
for ns in $(rec netns); do
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || continue
  for _ in $(seq 1 100); do
    left=$(for p in $(ip netns pids "$ns" 2>/dev/null); do alive "$p" && echo "$p"; done)
    [ -z "$left" ] && break
    for p in $left; do
      log "killing pid $p left in $ns: $( { tr '\0' ' ' < /proc/$p/cmdline; } 2>/dev/null | cut -c1-120)"
      kill -KILL "$p" 2>/dev/null
    done
    sleep 0.05
  done
done

# 4. controller and munged (root namespace)
stop_pid slurmctld "$(pid_of slurmctld)" 10
stop_pid munged    "$(pid_of munged)" 10
wait 2>/dev/null
: > "$PIDS"

# 5. network pieces, exactly those recorded
for v in $(rec veth); do ip link show "$v" >/dev/null 2>&1 && ip link del "$v"; done
for ns in $(rec netns); do
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" && ip netns del "$ns"
done
for b in $(rec bridge); do ip link show "$b" >/dev/null 2>&1 && { ip link set "$b" down; ip link del "$b"; }; done
for h in $(rec hosts); do
  if grep -qF "$TAG" "$h"; then
    grep -vF "$TAG" "$h" > "$BASE/run/hosts.new"
    cat "$BASE/run/hosts.new" > "$h"        # rewrite in place (keeps the inode)
    rm -f "$BASE/run/hosts.new"
  fi
done
: > "$NETREC"
log "stopped; network removed"
