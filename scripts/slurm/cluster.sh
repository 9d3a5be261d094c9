#!/usr/bin/env bash
# A single-node Slurm cluster (Debian's slurm-wlm and munge, 22.05) for tests and trying the examples:
#   scripts/slurm/cluster.sh start    install the packages when missing (as root, with apt), write a slurm.conf,
#                                     start munged, slurmctld and slurmd, wait until the node takes jobs
#   scripts/slurm/cluster.sh stop     cancel every job, stop the daemons this script started
# Commands then need SLURM_CONF=$TAILGUARD_SLURM_DIR/slurm.conf (start prints it). Settings known to work here:
# SlurmUser=root, ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, SelectType=select/cons_tres, one node
# named after the host. State, logs and pid files live in TAILGUARD_SLURM_DIR (default /tmp/tailguard-slurm).
# Exits non-zero with the reason on stderr when the cluster cannot start.
set -euo pipefail

DIR="${TAILGUARD_SLURM_DIR:-/tmp/tailguard-slurm}"
CONF="$DIR/slurm.conf"
CTLD_PORT="${TAILGUARD_SLURMCTLD_PORT:-6817}"
SLURMD_PORT="${TAILGUARD_SLURMD_PORT:-6818}"
export SLURM_CONF="$CONF"

die() { echo "slurm cluster: $*" >&2; exit 1; }

install_if_missing() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "slurm-wlm and munge are not installed, and installing them needs root (apt-get install slurm-wlm munge)"
  command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed, and there is no apt-get to install them"
  echo "slurm cluster: installing slurm-wlm and munge" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurm-wlm munge >"$DIR/apt.log" 2>&1 ||
    { apt-get update >>"$DIR/apt.log" 2>&1 && apt-get install -y --no-install-recommends slurm-wlm munge >>"$DIR/apt.log" 2>&1; } ||
    die "apt-get install slurm-wlm munge failed: see $DIR/apt.log"
}

start_munge() {
  if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi  # already running
  [ -s /etc/munge/munge.key ] || {
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then mungekey --create --force --keyfile=/etc/munge/munge.key >/dev/null 2>&1 || true; fi
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  }
  local user=root
  id munge >/dev/null 2>&1 && user=munge
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown "$user" /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge /etc/munge
  chmod 0400 /etc/munge/munge.key
  chmod 0700 /etc/munge
  if [ "$user" = munge ]; then runuser -u munge -- munged; else munged --force; fi
  echo started >"$DIR/munged.ours"
  for _ in $(seq 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "munged did not start (see /var/log/munge/munged.log)"
}

write_conf() {
  local host cpus mem
  host="$(hostname -s)"
  cpus="$(nproc)"
  mem="$(awk '/MemTotal/ { print int($2 / 1024 * 0.8) }' /proc/meminfo)"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat >"$CONF" <<CONF
ClusterName=tailguard
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
KillWait=5
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  mkdir -p "$DIR"
  install_if_missing
  start_munge
  write_conf
  pid_alive "$DIR/slurmctld.pid" || slurmctld -i || die "slurmctld did not start (see $DIR/log/slurmctld.log)"
  pid_alive "$DIR/slurmd.pid" || slurmd || die "slurmd did not start (see $DIR/log/slurmd.log)"
  local state=""
  for _ in $(seq 150); do
    state="$(sinfo -h -o %T 2>/dev/null | head -1 || true)"
    case "$state" in
      idle | mixed | allocated) echo "SLURM_CONF=$CONF"; return 0 ;;
      down* | drain*) scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  die "the node did not become idle (state: ${state:-no answer}); see $DIR/log/slurmctld.log and $DIR/log/slurmd.log"
}

stop() {
  if [ -f "$CONF" ]; then scancel --quiet --user="$(id -un)" 2>/dev/null || true; fi
  for d in slurmd slurmctld; do
    if pid_alive "$DIR/$d.pid"; then
      local pid
      pid="$(cat "$DIR/$d.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [ -f "$DIR/munged.ours" ]; then
    local mpid
    mpid="$(cat /run/munge/munged.pid 2>/dev/null || true)"
    [ -n "$mpid" ] && kill "$mpid" 2>/dev/null || true
    rm -f "$DIR/munged.ours"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop" ;;
esac
