#!/bin/sh
# Bring up (and tear down) a private single-node Slurm cluster for tests.
#
#   sh tests/fleet/slurm_cluster.sh start DIR   # configure + start munged, slurmctld, slurmd
#   sh tests/fleet/slurm_cluster.sh stop  DIR   # stop what `start DIR` started (idempotent)
#   sh tests/fleet/slurm_cluster.sh env   DIR   # print the environment lines clients need
#
# Everything (slurm.conf, munge key, state, spool, logs, pid files, sockets)
# lives under DIR; /etc/slurm and /etc/munge are neither read nor written.
# `start` and `env` print shell lines on stdout, so
#   eval "$(sh tests/fleet/slurm_cluster.sh start "$dir")"
# leaves SLURM_CONF exported; progress and errors go to stderr.
#
# Uses Debian's slurm-wlm and munge packages (Slurm 22.05 on Debian 12). If they
# are missing, `start` installs them with apt-get (root only). If that is not
# possible, `start` prints "skipped: ..." and exits 77.
#
# Made for containers: no systemd, root, no cgroup delegation. Hence
# proctrack/linuxproc + task/none + jobacct_gather/none, which need no
# cgroup.conf and no cgroup file system.
#
# Environment knobs:
#   SLURM_CLUSTER_START_TIMEOUT  seconds to wait for the node to be idle (60)
#   SLURM_CLUSTER_NO_INSTALL=1   never run apt-get; skip (77) if packages are missing

set -eu

prog=slurm_cluster.sh
partition=accelbench
start_timeout=${SLURM_CLUSTER_START_TIMEOUT:-60}

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
skip() { printf 'skipped: %s\n' "$*"; printf 'skipped: %s\n' "$*" >&2; exit 77; }

usage() {
    cat >&2 <<EOF
usage: sh $0 start DIR | stop DIR | env DIR
EOF
    exit 2
}

# Absolute path of DIR (created when $2 = create).
abs_dir() {
    if [ "${2:-}" = create ]; then
        mkdir -p "$1" || die "cannot create directory $1"
    fi
    [ -d "$1" ] || return 1
    (cd "$1" && pwd -P)
}

now_ms() {
    # GNU date; falls back to whole seconds.
    t=$(date +%s%3N 2>/dev/null || true)
    case $t in
        *N*|'') echo $(( $(date +%s) * 1000 )) ;;
        *) echo "$t" ;;
    esac
}

# ---------------------------------------------------------------- packages

have_all_commands() {
    for c in munged mungekey munge unmunge slurmctld slurmd sinfo sbatch squeue scontrol scancel; do
        command -v "$c" >/dev/null 2>&1 || return 1
    done
    return 0
}

# The Slurm daemons and munge live in /usr/sbin; make sure it is searched.
case ":$PATH:" in
    *:/usr/sbin:*) ;;
    *) PATH=$PATH:/usr/sbin:/sbin; export PATH ;;
esac

ensure_packages() {
    have_all_commands && return 0
    if [ "${SLURM_CLUSTER_NO_INSTALL:-0}" = 1 ]; then
        skip "Slurm/munge commands missing and SLURM_CLUSTER_NO_INSTALL=1"
    fi
    if [ "$(id -u)" != 0 ]; then
        skip "Slurm/munge commands missing and not root, cannot apt-get install slurm-wlm munge"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        skip "Slurm/munge commands missing and apt-get not available"
    # Installing is the one system-wide change: dpkg puts the binaries in
    # /usr, and the packages' maintainer scripts create /etc/munge/munge.key
    # and enable (on systemd hosts, possibly start) the stock services. This
    # script itself never uses those; it runs its own daemons from DIR.
    say "installing Debian packages slurm-wlm munge with apt-get (Slurm/munge commands missing)"
    log=$(mktemp "${TMPDIR:-/tmp}/slurm_cluster_apt.XXXXXX")
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            slurm-wlm munge >"$log" 2>&1; then
        say "apt-get install failed; running apt-get update and retrying"
        if ! { DEBIAN_FRONTEND=noninteractive apt-get update &&
               DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                   slurm-wlm munge; } >>"$log" 2>&1; then
            tail -n 20 "$log" >&2 || true
            rm -f "$log"
            skip "could not install slurm-wlm and munge with apt-get"
        fi
    fi
    rm -f "$log"
    have_all_commands || skip "slurm-wlm/munge installed but commands still missing"
    say "installed slurm-wlm and munge"
}

# ---------------------------------------------------------------- ports

# Print N distinct TCP ports that no socket on this host uses now (any state,
# IPv4 or IPv6), taken below the kernel's ephemeral range so outgoing
# connections are unlikely to grab them later.
free_ports() {
    n=$1
    lo_eph=32768
    if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
        lo_eph=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range)
    fi
    hi=$((lo_eph - 1))
    lo=10000
    [ "$hi" -gt "$((lo + 1000))" ] || { lo=1100; hi=9999; }
    used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
           awk 'NR > 0 && $2 ~ /:/ { split($2, a, ":"); print a[2] }' |
           while read -r hex; do printf '%d\n' "0x$hex"; done | sort -un | tr '\n' ' ')
    awk -v n="$n" -v lo="$lo" -v hi="$hi" -v used="$used" -v seed="$$" '
        BEGIN {
            split(used, u, " "); for (i in u) busy[u[i]] = 1
            srand(); t = srand(); srand(t + seed)
            got = 0; tries = 0
            while (got < n && tries < 100000) {
                p = lo + int(rand() * (hi - lo + 1)); tries++
                if (p in busy) continue
                busy[p] = 1; print p; got++
            }
            if (got < n) exit 1
        }'
}

# ---------------------------------------------------------------- processes

# pid_of NAME: the pid recorded in DIR's pid file for daemon NAME, printed
# only if that process is alive, is NAME, and was started for this DIR
# (its command line names DIR), so a recycled pid is never hit.
pid_of() {
    name=$1
    case $name in
        munged)    pf=$dir/run/munged.pid ;;
        slurmctld) pf=$dir/run/slurmctld.pid ;;
        slurmd)    pf=$dir/run/slurmd.pid ;;
    esac
    [ -s "$pf" ] || return 1
    pid=$(tr -dc '0-9' <"$pf")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    case $comm in
        "$name"*) ;;
        *) return 1 ;;
    esac
    # A zombie has an empty command line and so never matches.
    if { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$dir/"; then
        echo "$pid"; return 0
    fi
    return 1
}

# stop_daemon NAME: SIGTERM, wait up to 20 s, then SIGKILL.
stop_daemon() {
    name=$1
    pid=$(pid_of "$name") || return 0
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while [ -d "/proc/$pid" ] && [ $i -lt 200 ]; do
        # A zombie counts as gone.
        st=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [ "$st" = Z ] && break
        sleep 0.1; i=$((i + 1))
    done
    if [ -d "/proc/$pid" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)" != Z ]; then
        say "$name (pid $pid) ignored SIGTERM for 20 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
}

# Other processes that belong to this cluster: slurmstepd and the
# slurmscriptd helper of slurmctld. They inherit SLURM_CONF=DIR/slurm.conf
# from the daemons, which is how they are recognised here.
leftover_pids() {
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" = "$$" ] && continue
        if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$dir/slurm.conf"; then
            comm=$(cat "$p/comm" 2>/dev/null || true)
            case $comm in
                slurmstepd|slurmscriptd|slurmd|slurmctld|munged) echo "$pid" ;;
            esac
        fi
    done
}

# daemon_alive NAME TICKS: false once NAME's pid file exists and its process
# is gone, or when no pid file appeared within 50 ticks (5 s at 0.1 s).
daemon_alive() {
    pid_of "$1" >/dev/null && return 0
    case $1 in
        slurmctld) [ -s "$dir/run/slurmctld.pid" ] && return 1 ;;
        slurmd) [ -s "$dir/run/slurmd.pid" ] && return 1 ;;
    esac
    [ "$2" -lt 50 ]
}

show_logs() {
    for f in "$dir/log/munged.log" "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
        if [ -f "$f" ]; then
            printf '==== %s (last 40 lines) ====\n' "$f" >&2
            tail -n 40 "$f" >&2 || true
        else
            printf '==== %s: missing ====\n' "$f" >&2
        fi
    done
}

print_env() {
    printf 'export SLURM_CONF=%s/slurm.conf\n' "$dir"
    # Slurm finds the private munge socket through AuthInfo in slurm.conf, so
    # no munge variable is needed; munge(1)/unmunge(1) need --socket=... .
    printf '# munge socket: %s/munge/munge.socket (slurm.conf AuthInfo; for munge/unmunge use --socket)\n' "$dir"
}

# ---------------------------------------------------------------- start

write_conf() {
    node=$1 hwline=$2 ctld_port=$3 slurmd_port=$4
    cat >"$dir/slurm.conf" <<EOF
# Single-node test cluster; generated by tests/fleet/slurm_cluster.sh.
ClusterName=accelbench
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=300
# Start the next job as soon as a node frees up (default delay: 3 s), so the
# tasks of an --exclusive array follow each other about 1 s apart.
SchedulerParameters=batch_sched_delay=0
$hwline NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$partition Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

cmd_start() {
    t0=$(now_ms)
    # slurmd must be root to start job steps as the submitting user, and
    # SlurmUser=root below; an unprivileged cluster is not supported.
    [ "$(id -u)" = 0 ] || skip "starting a Slurm cluster needs root (slurmd runs as root)"
    ensure_packages

    for n in munged slurmctld slurmd; do
        if pid=$(pid_of $n); then
            die "$n is already running for $dir (pid $pid); run: sh $0 stop $dir"
        fi
    done

    mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/run" ||
        die "cannot create directories under $dir"
    # munged insists that every directory above its socket is searchable by
    # all (0700 from mktemp -d is refused) and that none is writable by others.
    chmod 0755 "$dir" "$dir/munge" "$dir/run" "$dir/log" || die "chmod under $dir failed"
    chmod 0700 "$dir/state" "$dir/spool" || die "chmod under $dir failed"
    rm -f "$dir/run/"*.pid "$dir/munge/munge.socket" "$dir/munge/munge.socket.lock"
    : >"$dir/plugstack.conf"

    # ---- munge: private key, socket, pid, log and seed files
    if [ ! -s "$dir/munge/munge.key" ]; then
        mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
            { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null &&
              chmod 0600 "$dir/munge/munge.key"; } ||
            die "cannot create munge key $dir/munge/munge.key"
    fi
    chmod 0600 "$dir/munge/munge.key"
    sock=$dir/munge/munge.socket
    # munged runs as root without complaint. --force turns its path checks
    # into warnings: without it munged exits when any directory above DIR is
    # group- or world-writable without the sticky bit (e.g. a 0775 build
    # tree). The files it guards are private to this test cluster.
    if ! munged --force \
            --socket="$sock" \
            --key-file="$dir/munge/munge.key" \
            --pid-file="$dir/run/munged.pid" \
            --log-file="$dir/log/munged.log" \
            --seed-file="$dir/munge/munged.seed" 2>"$dir/log/munged.stderr"; then
        cat "$dir/log/munged.stderr" >&2
        show_logs
        die "munged failed to start"
    fi
    i=0
    until munge --socket="$sock" -n 2>/dev/null | unmunge --socket="$sock" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -ge 100 ]; then
            show_logs
            die "munged does not answer on $sock after 10 s"
        fi
        sleep 0.1
    done

    # ---- node description and ports
    hw=$(slurmd -C 2>/dev/null | head -n 1) || true
    case $hw in
        NodeName=*) ;;
        *) die "slurmd -C gave no node description (got: $hw)" ;;
    esac
    node=$(printf '%s\n' "$hw" | sed -n 's/^NodeName=\([^ ]*\).*/\1/p')
    short=$(hostname -s 2>/dev/null || hostname)
    if [ "$node" != "$short" ]; then
        say "note: slurmd -C reports NodeName=$node but hostname -s is $short; using $node"
    fi
    # Keep NodeName, CPU topology and RealMemory; drop UpTime etc.
    hwline=$(printf '%s\n' "$hw" | tr ' ' '\n' |
             grep -E '^(NodeName|CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=' |
             tr '\n' ' ' | sed 's/ $//')
    ports=$(free_ports 2) || die "no free TCP ports found"
    ctld_port=$(echo "$ports" | sed -n 1p)
    slurmd_port=$(echo "$ports" | sed -n 2p)

    write_conf "$node" "$hwline" "$ctld_port" "$slurmd_port"
    SLURM_CONF=$dir/slurm.conf
    export SLURM_CONF

    # ---- slurmctld then slurmd, both daemonised (no -D)
    # -c: start clean, without jobs saved by an earlier run in DIR;
    # -f: names DIR on the command line (stop checks for it).
    if ! slurmctld -c -f "$SLURM_CONF" 2>"$dir/log/slurmctld.stderr"; then
        cat "$dir/log/slurmctld.stderr" >&2
        show_logs
        die "slurmctld failed to start"
    fi
    i=0
    until scontrol ping >/dev/null 2>&1; do
        i=$((i + 1))
        if ! daemon_alive slurmctld $i; then
            show_logs
            cmd_stop_quiet
            die "slurmctld exited during start-up (see $dir/log/slurmctld.log above)"
        fi
        if [ $i -ge $((start_timeout * 10)) ]; then
            show_logs
            cmd_stop_quiet
            die "slurmctld does not answer on port $ctld_port after ${start_timeout} s"
        fi
        sleep 0.1
    done
    if ! slurmd -f "$SLURM_CONF" -N "$node" 2>"$dir/log/slurmd.stderr"; then
        cat "$dir/log/slurmd.stderr" >&2
        show_logs
        cmd_stop_quiet
        die "slurmd failed to start"
    fi

    # ---- wait for the node to be idle
    i=0
    deadline=$(( $(date +%s) + start_timeout ))
    state=
    while :; do
        state=$(sinfo -h -N -n "$node" -p "$partition" -o '%T' 2>/dev/null | head -n 1 || true)
        case $state in
            idle) break ;;
        esac
        i=$((i + 1))
        for n in slurmctld slurmd; do
            if ! daemon_alive $n $i; then
                show_logs
                cmd_stop_quiet
                die "$n exited during start-up (see $dir/log/$n.log above)"
            fi
        done
        if [ "$(date +%s)" -ge "$deadline" ]; then
            say "node $node not idle after ${start_timeout} s (state: ${state:-unknown})"
            scontrol show node "$node" >&2 2>/dev/null || true
            show_logs
            cmd_stop_quiet
            die "Slurm cluster in $dir did not come up"
        fi
        sleep 0.1
    done
    t1=$(now_ms)
    ms=$((t1 - t0))
    say "cluster up in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s: node $node idle in partition $partition, slurmctld port $ctld_port, slurmd port $slurmd_port, files in $dir"
    print_env
}

# ---------------------------------------------------------------- stop

cmd_stop_quiet() { cmd_stop >/dev/null 2>&1 || true; }

cmd_stop() {
    SLURM_CONF=$dir/slurm.conf
    export SLURM_CONF
    # Cancel jobs first so slurmd can tear their steps down.
    if pid_of slurmctld >/dev/null && pid_of slurmd >/dev/null; then
        jobs=$(squeue -h -o '%A' 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            say "cancelling jobs: $(echo "$jobs" | tr '\n' ' ')"
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            i=0
            while [ -n "$(squeue -h -t R,CG,CF,S,PD -o '%A' 2>/dev/null || true)" ] && [ $i -lt 100 ]; do
                sleep 0.1; i=$((i + 1))
            done
        fi
    fi
    stop_daemon slurmd
    stop_daemon slurmctld
    stop_daemon munged
    # Job steps or helpers that outlived their daemon.
    for pid in $(leftover_pids); do
        say "killing leftover $(cat "/proc/$pid/comm" 2>/dev/null || echo process) (pid $pid)"
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$dir/run/munged.pid" "$dir/run/slurmctld.pid" "$dir/run/slurmd.pid"
    say "stopped cluster in $dir"
}

# ---------------------------------------------------------------- main

[ $# -eq 2 ] || usage
cmd=$1
case $cmd in
    start)
        dir=$(abs_dir "$2" create) || die "cannot use directory $2"
        cmd_start ;;
    stop)
        if ! dir=$(abs_dir "$2"); then
            say "$2 does not exist; nothing to stop"
            exit 0
        fi
        cmd_stop ;;
    env)
        dir=$(abs_dir "$2") || die "no such directory: $2"
        [ -f "$dir/slurm.conf" ] || die "$dir/slurm.conf missing; run: sh $0 start $dir"
        print_env ;;
    *) usage ;;
esac
