#!/bin/bash
# The Slurm job scripts against a real Slurm cluster of emulated nodes: a controller on
# "head" and slurmd on node1 and node2, each node a network namespace with its own hostname
# on a private bridge (tests/netns.sh), munged on a private socket, all state in a
# temporary folder.
#  - A training job (jobs/train.sbatch, 2 ranks on one node, mpirun) is preempted with
#    SIGUSR1, checkpoints, requeues itself, runs again from the checkpoint and completes
#    with weights bitwise equal to an uninterrupted run's.
#  - The same on a two-node allocation submitted through jobs/submit with a site file
#    (partition, time, 2 nodes x 1 task, a module to load, launcher `srun --mpi=pmix`):
#    preempted, requeued, resumed, bitwise equal again, its traffic on the nodes' link.
#  - A two-cell sweep (jobs/sweep.sbatch) runs, and skips its cells when submitted again.
#
# Needs root (slurmd launches the jobs; namespaces) and the packages slurmctld slurmd
# slurm-client munge environment-modules; installs them when missing and it can. Without
# root or namespaces every point is reported as SKIP with the reason. About a minute and
# a half on idle cores, more on a busy machine.
set -u
: "${HYPERCLIP:=./hyperclip}" "${TESTBIN:=tests}" "${srcdir:=.}"
: "${MPIRUN:=mpirun}" "${H5DIFF:=h5diff}"
PATH=$PATH:/usr/sbin:/sbin
HYPERCLIP=$(cd "$(dirname "$HYPERCLIP")" && pwd)/$(basename "$HYPERCLIP")
JOBS=$(cd "$srcdir/jobs" && pwd)
# shellcheck source=jobs/lib.sh
. "$JOBS/lib.sh"   # for hc_epochs_recorded

i=0
ok()      { i=$((i + 1)); echo "ok $i - $*"; }
not_ok()  { i=$((i + 1)); echo "not ok $i - $*"; }
comment() { sed 's/^/# /'; }
# check DESCRIPTION COMMAND... : one TAP point from a command's exit status.
check()   { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# Ends the test early: the remaining points cannot run.
bail()    { not_ok "$*"; echo "1..$i"; exit 1; }
# Last lines of the daemons' logs and of the job log, as TAP comments.
show_logs() {
    local f
    for f in "$tmp"/log/*.log "$@"; do
        [ -f "$f" ] || continue
        echo "# --- $f (last 25 lines)"
        tail -25 "$f" | comment
    done
}
# wait_for SECONDS COMMAND... : polls every half second until the command succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.5
    done
}

# ---- the packages --------------------------------------------------------------------
pkgs="slurmctld slurmd slurm-client munge environment-modules"
have_slurm() {
    local c
    for c in slurmctld slurmd sbatch squeue scontrol sinfo scancel srun munged mungekey munge; do
        command -v "$c" >/dev/null 2>&1 || return 1
    done
}
if ! have_slurm && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "# installing $pkgs"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    timeout 300 apt-get install -y -q $pkgs >/dev/null 2>&1 ||
        { timeout 300 apt-get update -q >/dev/null 2>&1 &&
          timeout 300 apt-get install -y -q $pkgs >/dev/null 2>&1; }
fi
POINTS=34
skip_all() {
    echo "1..$POINTS"
    for ((k = 1; k <= POINTS; k++)); do echo "ok $k # SKIP $1"; done
    exit 0
}
NETNS_PREFIX=hcsl-$$
# shellcheck source=tests/netns.sh
. "$srcdir/tests/netns.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root: slurmd must run as root to start jobs"
netns_usable || skip_all "$NETNS_WHY"
have_slurm || bail "slurm packages missing ($pkgs)"
ok "slurm packages present ($(slurmctld -V 2>&1))"

# ---- the cluster -----------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hc-slurm.XXXXXX") || bail "mktemp failed"
# munged insists that its folders are not writable by others and are searchable: 711.
chmod 711 "$tmp"
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/work" "$tmp/tmpfs/node1" "$tmp/tmpfs/node2"
chmod 711 "$tmp/munge"  # 700 fails: "execute permissions for all required"
munged_pid="" ctld_pid="" slurmd_pids="" jobs_submitted=""
NODES="node1 node2"
# The Slurm commands talk to the controller on head: they run there.
for c in sbatch squeue scontrol sinfo scancel; do eval "$c() { netns_run head $c \"\$@\"; }"; done

# Teardown, always: our jobs, the daemons by PID (slurmd, slurmctld, munged), whatever a
# job left behind (found by the SLURM_CONF of this cluster in its environment), the folder.
teardown() {
    local p n left=""
    if [ -n "$jobs_submitted" ] && [ -n "$ctld_pid" ]; then
        # shellcheck disable=SC2086
        timeout 10 scancel $jobs_submitted 2>/dev/null
        no_jobs() { [ -z "$(squeue -h -o %i 2>/dev/null)" ]; }
        wait_for 20 no_jobs
    fi
    for p in $slurmd_pids "$ctld_pid" "$munged_pid"; do
        [ -n "$p" ] || continue
        kill "$p" 2>/dev/null
        for n in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = $$ ] && continue
        tr '\0' '\n' 2>/dev/null < "/proc/$p/environ" | grep -qxF "SLURM_CONF=$tmp/slurm.conf" &&
            left="$left $p"
    done
    # shellcheck disable=SC2086
    [ -n "$left" ] && kill -9 $left 2>/dev/null
    netns_down
    rm -rf "$tmp"
}
trap teardown EXIT
trap 'exit 1' INT TERM HUP

# The daemons run in the foreground (so that $! is their PID) and in a session of their
# own (setsid, which does not fork here: this shell has no job control), so that a Ctrl-C
# to `make check` stops them only through the teardown, after the jobs.
mungekey --create --keyfile="$tmp/munge/munge.key" >/dev/null 2>&1
setsid munged --foreground --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.socket" \
    --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" \
    --log-file="$tmp/log/munged.log" </dev/null >"$tmp/log/munged.out" 2>&1 &
munged_pid=$!
munge_works() { munge -n -S "$tmp/munge/munge.socket" 2>/dev/null |
                unmunge -S "$tmp/munge/munge.socket" >/dev/null 2>&1; }
if wait_for 10 munge_works; then ok "munged runs on a private socket (pid $munged_pid)"
else show_logs "$tmp/log/munged.out"; bail "munged did not start"; fi

# The nodes: head (the controller, the commands), node1 and node2 (slurmd), nothing else
# reachable from them. Slurm's ports are their own in each namespace.
if netns_up $NODES && netns_confined; then
    ok "emulated nodes head, node1, node2 on $NETNS_SUBNET, no other interface or route"
else bail "could not build the emulated nodes"; fi
cpus=$(nproc --all)  # plain nproc obeys OMP_NUM_THREADS
mem=$(free -m | awk '/^Mem:/ {print $2}')
mem=$(((mem - (mem / 10 > 512 ? mem / 10 : 512)) / 2))  # two nodes share it, with a margin
# TmpFS per node (%n): PMIx makes its per-step folders there, and the two nodes share /tmp.
cat > "$tmp/slurm.conf" <<EOF
ClusterName=hctest
SlurmctldHost=head($(netns_addr head))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket,cred_expire=10
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool/%n
TmpFS=$tmp/tmpfs/%n
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd-%n.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
JobRequeue=1
SchedulerParameters=bf_interval=5,sched_interval=5
NodeName=node1 NodeAddr=$(netns_addr node1) CPUs=$cpus RealMemory=$mem State=UNKNOWN
NodeName=node2 NodeAddr=$(netns_addr node2) CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
netns_run head setsid slurmctld -D -f "$SLURM_CONF" </dev/null >"$tmp/log/slurmctld.out" 2>&1 &
ctld_pid=$!
for n in $NODES; do
    netns_run "$n" setsid slurmd -D -N "$n" -f "$SLURM_CONF" </dev/null >"$tmp/log/slurmd-$n.out" 2>&1 &
    slurmd_pids="$slurmd_pids $!"
done
# Their PID files have the last word (should setsid have forked after all).
[ -s "$tmp/munge/munged.pid" ] && munged_pid=$(cat "$tmp/munge/munged.pid")
nodes_idle() { [ "$(sinfo -h -o '%T %D' 2>/dev/null)" = "idle 2" ]; }
if wait_for 30 nodes_idle; then
    [ -s "$tmp/slurmctld.pid" ] && ctld_pid=$(cat "$tmp/slurmctld.pid")
    ok "slurmctld on head, slurmd on node1 and node2, both idle ($cpus CPUs, ${mem} MB each)"
else echo "# sinfo: $(sinfo 2>&1)"; show_logs "$tmp/log/slurmctld.out" "$tmp/log/slurmd-node1.out"
     bail "nodes not idle within 30 s"; fi

# ---- an uninterrupted reference run --------------------------------------------------
w=$tmp/work
cd "$w" || bail "cd $w"
# One binary for the reference and the job, even if the build tree is rebuilt meanwhile.
cp "$HYPERCLIP" "$w/hyperclip" || bail "cannot copy $HYPERCLIP"
HYPERCLIP=$w/hyperclip
"$TESTBIN/gen_data" "$w/data" --train 8000 --test 500 --rows 28 --cols 28 >/dev/null ||
    bail "gen_data failed"
# 4 epochs of 1000 small steps: about 8 s on 2 idle cores, long enough to be interrupted
# after its first checkpoints (every 100 steps).
STACK='adam / sgd(alpha=1e-4, clip=on)'
EPOCHS=4
EXTRA_ARGS="--batch 8 --seed 3"
CHECKPOINT_EVERY=100
ref_start=$SECONDS
# shellcheck disable=SC2086
"$MPIRUN" -np 2 "$HYPERCLIP" train --data "$w/data" --stack "$STACK" --epochs $EPOCHS \
    $EXTRA_ARGS --progress never --checkpoint "$w/ref.h5" \
    --checkpoint-every $CHECKPOINT_EVERY --metrics "$w/ref-metrics.h5" >"$w/ref.out" 2>&1
code=$?
ref_secs=$((SECONDS - ref_start))
# The job's remaining waits scale with how fast this machine is right now (a loaded
# machine can be 10 times slower): the whole run again, three times over, at least 90 s.
run_bound=$((3 * ref_secs > 90 ? 3 * ref_secs : 90))
if [ $code -eq 0 ]; then ok "reference run, uninterrupted: mpirun -np 2, exit 0, ${ref_secs}s"
else comment < "$w/ref.out"; bail "reference run failed with exit code $code"; fi

job_field() {  # job_field NAME: a field of `scontrol show job $job`, e.g. JobState, Restarts
    scontrol -o show job "$job" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p"
}
job_ended() { case $(job_field JobState) in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)
               return 0 ;; esac; return 1; }

# preempted_and_resumed WHAT : the submitted $job (writing $run/ckpt.h5, logging to $log)
# runs and checkpoints, is preempted as a scheduler would (SIGUSR1 to the batch shell,
# which passes it on), checkpoints, requeues itself, runs again, resumes and completes,
# bitwise equal to the uninterrupted reference run. Returns 1 when the rest cannot run.
preempted_and_resumed() {
    local what=$1 state restarts out stopped_at=""
    # Polls end early when the job has ended (e.g. failed): the conditions test job_ended too.
    running_with_ckpt() { [ -f "$run/ckpt.h5" ] || job_ended; }
    if wait_for 60 running_with_ckpt && [ "$(job_field JobState)" = RUNNING ]; then
        ok "$what: the job runs and has written a checkpoint ($(grep -c . "$log" 2>/dev/null) log lines)"
    else
        echo "# job state: $(job_field JobState) $(job_field Reason)"
        show_logs "$log"; not_ok "$what: no running job with a checkpoint within 60 s"; return 1
    fi
    if scancel --signal=USR1 --batch "$job" 2>"$w/scancel.err"; then
        ok "$what: scancel --signal=USR1 --batch $job"
    else comment < "$w/scancel.err"; not_ok "$what: scancel --signal=USR1 --batch $job"; fi

    requeued() { grep -q "stopped after writing a checkpoint: requeueing" "$log" 2>/dev/null; }
    if wait_for 30 requeued; then ok "$what: the job checkpointed, exited 75 and requeued itself"
    else show_logs "$log"; not_ok "$what: no checkpoint and requeue within 30 s of the signal"; return 1; fi
    grep -q "^stopped by a signal at step" "$log" &&
        stopped_at=$(sed -n 's/^stopped by a signal at step \([0-9]*\).*/\1/p' "$log" | head -1)
    echo "# hyperclip stopped at step ${stopped_at:-?} of $((EPOCHS * 1000))"

    restarted() { grep -q "SLURM_RESTART_COUNT=1" "$log" 2>/dev/null; }
    restarted_or_ended() { restarted || job_ended; }
    if wait_for 60 restarted_or_ended && restarted; then ok "$what: the job ran again: SLURM_RESTART_COUNT=1 in its log"
    else echo "# job state: $(job_field JobState) $(job_field Reason)"; show_logs "$log"
         not_ok "$what: the job did not run again within 60 s"; return 1; fi

    if ! wait_for $run_bound job_ended; then
        echo "# job state: $(job_field JobState)"; show_logs "$log"
        not_ok "$what: the job did not end within $run_bound s"; return 1
    fi
    state=$(job_field JobState) restarts=$(job_field Restarts)
    jobs_submitted=""
    if [ "$state" = COMPLETED ] && [ "$restarts" = 1 ]; then
        ok "$what: the job completed after one requeue (JobState=$state Restarts=$restarts)"
    else show_logs "$log"; not_ok "$what: the job ended as JobState=$state Restarts=$restarts"; fi
    check "$what: its log says it resumed from the checkpoint and completed" \
        grep -q "^resumed from .*ckpt.h5 at step" "$log"
    if ! grep -q "done: the run is complete" "$log"; then
        show_logs "$log"; not_ok "$what: its log ends with 'done: the run is complete'"
    else ok "$what: its log ends with 'done: the run is complete'"; fi

    if out=$("$H5DIFF" "$w/ref.h5" "$run/ckpt.h5" /model /model 2>&1); then
        ok "$what: final weights /model bitwise equal to the uninterrupted run's (h5diff, no tolerance)"
    else echo "$out" | head -20 | comment; not_ok "$what: final weights /model differ from the uninterrupted run's"; fi
    if out=$("$H5DIFF" "$w/ref-metrics.h5" "$run/metrics.h5" /steps/loss /steps/loss 2>&1) &&
       out=$("$H5DIFF" "$w/ref-metrics.h5" "$run/metrics.h5" /epochs/test_error /epochs/test_error 2>&1)
    then ok "$what: metrics /steps/loss and /epochs/test_error equal to the uninterrupted run's"
    else echo "$out" | head -20 | comment; not_ok "$what: metrics differ from the uninterrupted run's"; fi
}

# ---- the training job on one node: preempted, requeued, resumed ------------------------
run=$w/run
log=$w/train.out
# The settings go through the environment (sbatch exports it all): --export=NAME=VALUE
# would cut STACK at its commas.
job=$(HYPERCLIP=$HYPERCLIP DATA=$w/data STACK=$STACK EPOCHS=$EPOCHS RUN_DIR=$run \
      CHECKPOINT_EVERY=$CHECKPOINT_EVERY EXTRA_ARGS=$EXTRA_ARGS \
      sbatch --parsable -N 1 -n 2 -o "$log" "$JOBS/train.sbatch" 2>"$w/sbatch.err")
if [ -n "$job" ]; then ok "sbatch -N 1 -n 2 jobs/train.sbatch: job $job"; jobs_submitted=$job
else comment < "$w/sbatch.err"; bail "sbatch failed"; fi
preempted_and_resumed "1 node, mpirun" || bail "the one-node job did not come through"

# ---- the same on two nodes: jobs/submit with a site file, srun --mpi=pmix ---------------
# A site as a user without root sets it up: a modules folder of their own with a module
# (Environment Modules), and the site file naming partition, time, nodes, tasks, the
# module and the launcher. Open MPI's TCP transport is kept on the nodes' link.
mkdir -p "$w/modulefiles"
printf '#%%Module1.0\nsetenv HC_TEST_MODULE loaded\n' > "$w/modulefiles/hcdeps"
cat > "$w/site.conf" <<EOF
HC_PARTITION=test
HC_TIME=00:30:00
HC_SIGNAL_LEAD=60
HC_NODES=2
HC_TASKS_PER_NODE=1
HC_CPUS_PER_TASK=1
HC_MODULES=hcdeps
HC_LAUNCHER="srun --mpi=pmix"
EOF
run=$w/run2
log=$w/train2.out
before=$(netns_eth0_bytes node2)
job=$(HC_SITE=$w/site.conf MODULEPATH=$w/modulefiles OMPI_MCA_btl_tcp_if_include=$NETNS_SUBNET \
      HYPERCLIP=$HYPERCLIP DATA=$w/data STACK=$STACK EPOCHS=$EPOCHS RUN_DIR=$run \
      CHECKPOINT_EVERY=$CHECKPOINT_EVERY EXTRA_ARGS=$EXTRA_ARGS \
      netns_run head "$JOBS/submit" train --parsable -o "$log" 2>"$w/sbatch.err")
if [ -n "$job" ]; then ok "jobs/submit train with a site file (2 nodes x 1 task, srun --mpi=pmix): job $job"
    jobs_submitted=$job
else comment < "$w/sbatch.err"; bail "jobs/submit failed"; fi
preempted_and_resumed "2 nodes, srun" || bail "the two-node job did not come through"
nodes=$(job_field NodeList) num=$(job_field NumNodes) limit=$(job_field TimeLimit) part=$(job_field Partition)
check "2 nodes: the allocation the site file asked for: NodeList=$nodes NumNodes=$num TimeLimit=$limit Partition=$part" \
    test "$nodes,${num%-*},$limit,$part" = "node[1-2],2,00:30:00,test"
check "2 nodes: the module was loaded and srun started the 2 ranks across both nodes" \
    sh -c "grep -q 'modules loaded: hcdeps' '$log' && grep -q 'run: srun --mpi=pmix --ntasks=2 ' '$log' &&
           grep -q 'nodes=node\[1-2\]' '$log' && grep -q 'hyperclip .*: 2 ranks' '$log'"
moved=$(( $(netns_eth0_bytes node2) - before ))
check "2 nodes: the training traffic crossed the nodes' link ($moved bytes through node2's eth0)" \
    test "$moved" -gt 1000000

# ---- the sweep: a job array over a grid, skipping completed cells --------------------
grid=$("$JOBS/sweep.sbatch" --print-grid 2>&1)
n=$(echo "$grid" | grep -c '^[0-9]')
if echo "$grid" | head -1 | grep -q -- "--array=0-$((n - 1)) " && [ "$n" -eq 60 ]
then ok "sweep --print-grid lists the default grid's 60 cells and names --array=0-$((n - 1))"
else echo "$grid" | head -3 | comment; not_ok "sweep grid of $n cells (expected 60, and --array=0-$((n - 1)))"; fi

"$TESTBIN/gen_data" "$w/small" --train 512 --test 128 --rows 8 --cols 8 >/dev/null
export STACK_PRIMARIES=sgd ALPHAS=0.01 CLIPS="on off" TRIALS=1 EPOCHS_SGD=2
cells="sgd_sgd_a0.01_clipon_t1 sgd_sgd_a0.01_clipoff_t1"
grid=$("$JOBS/sweep.sbatch" --print-grid 2>&1)
check "sweep --print-grid names the cells of a 2-cell grid: $cells" \
    test "$(echo "$grid" | awk '/^[0-9]/ {printf "%s%s", s, $2; s=" "}')" = "$cells"
sweep() {  # sweep N: submits the 2-cell sweep, waits for it to end; its logs: sweepN-*.out
    array=$(HYPERCLIP=$HYPERCLIP DATA=$w/small RUN_DIR=$w/sweep EXTRA_ARGS="--batch 32" \
            sbatch --parsable --array=0-1 -n 1 -o "$w/sweep$1-%A_%a.out" \
            "$JOBS/sweep.sbatch" 2>"$w/sbatch.err") || { comment < "$w/sbatch.err"; return 1; }
    jobs_submitted=$array
    # squeue lists pending, running and completing tasks: none left means all ended.
    array_ended() { [ -z "$(squeue -h -j "$array" -o %i 2>/dev/null)" ]; }
    if ! wait_for 60 array_ended; then
        squeue -j "$array" | comment; show_logs "$w"/sweep"$1"-*.out; return 1
    fi
    jobs_submitted=""
    states=$(scontrol -o show job "$array" | tr ' ' '\n' | sed -n 's/^JobState=//p' |
             sort | uniq -c | awk '{printf "%s%s %s", s, $1, $2; s=", "}')
    [ "$states" = "2 COMPLETED" ] || { echo "# states: $states"; show_logs "$w"/sweep"$1"-*.out; return 1; }
}
check "sweep: both array tasks of a 2-cell sweep completed" sweep 1
complete=0
for c in $cells; do
    [ "$(hc_epochs_recorded "$w/sweep/$c.metrics.h5")" = 2 ] && [ -f "$w/sweep/$c.ckpt.h5" ] &&
        complete=$((complete + 1))
done
check "sweep: each cell has its checkpoint and a metrics file with 2 epochs" [ $complete = 2 ]
sums=$(cksum "$w"/sweep/*.h5)
check "sweep submitted again: both tasks completed" sweep 2
skipped=$(cat "$w"/sweep2-*.out 2>/dev/null | grep -c "is complete (2 epochs in .*): skipping")
if [ "$skipped" = 2 ] && [ "$(cksum "$w"/sweep/*.h5)" = "$sums" ]; then
    ok "sweep submitted again: both cells skipped as complete, their files untouched"
else cat "$w"/sweep2-*.out | comment; not_ok "sweep submitted again: $skipped of 2 cells skipped"; fi

echo "# took ${SECONDS} s"
echo "1..$i"
