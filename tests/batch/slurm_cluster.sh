# A single-node Slurm cluster on 127.0.0.1 under a temporary folder
# (sourced): its own munge key and socket, slurm.conf, slurmctld and slurmd
# running as the current user (root in CI, anyone else by hand). Needs
# $tmp (a fresh folder), $port_tool (prints a free TCP port). Sets
# SLURM_CONF for the Slurm commands; cluster_stop kills the three daemons
# by the PIDs in their pid files.
cluster=$tmp/slurm
cluster_start() {
    mkdir -p "$cluster/munge/run" "$cluster/state" "$cluster/spool" || return 1
    chmod 755 "$tmp" "$cluster" "$cluster/munge" "$cluster/munge/run"
    mungekey -c -k "$cluster/munge/munge.key" >/dev/null 2>&1 || return 1
    chmod 400 "$cluster/munge/munge.key"
    munged -S "$cluster/munge/run/munge.sock" \
        --key-file="$cluster/munge/munge.key" \
        --log-file="$cluster/munge/munged.log" \
        --pid-file="$cluster/munge/run/munged.pid" \
        --seed-file="$cluster/munge/munged.seed" || return 1
    user=$(id -un)
    host=$(hostname -s)
    cat >"$cluster/slurm.conf" <<CONF
ClusterName=spinepipe-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$($port_tool port)
SlurmdPort=$($port_tool port)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$cluster/munge/run/munge.sock
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$cluster/state
SlurmdSpoolDir=$cluster/spool
SlurmctldPidFile=$cluster/slurmctld.pid
SlurmdPidFile=$cluster/slurmd.pid
SlurmctldLogFile=$cluster/slurmctld.log
SlurmdLogFile=$cluster/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobCompType=jobcomp/filetxt
JobCompLoc=$cluster/jobcomp.txt
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
ReturnToService=2
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    SLURM_CONF=$cluster/slurm.conf
    export SLURM_CONF
    slurmctld -i || return 1
    slurmd || return 1
    cluster_idle() { sinfo -h -o %t 2>/dev/null | grep -q idle; }
    wait_for 30 cluster_idle
}
cluster_stop() {
    pids=""
    for f in "$cluster/slurmd.pid" "$cluster/slurmctld.pid" \
        "$cluster/munge/run/munged.pid"; do
        [ -s "$f" ] && pids="$pids $(cat "$f")"
    done
    [ -n "$pids" ] || return 0
    kill $pids 2>/dev/null
    # every one gone: `kill -0 a b` fails as soon as one of them is gone
    gone() {
        for p in $pids; do ! kill -0 "$p" 2>/dev/null || return 1; done
    }
    wait_for 20 gone && return 0
    kill -9 $pids 2>/dev/null
    wait_for 10 gone
    return 0
}
