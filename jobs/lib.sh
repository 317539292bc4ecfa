# shellcheck shell=bash
# jobs/lib.sh - the part of the Slurm job scripts that train.sbatch and sweep.sbatch
# share: MPI environment, the log banner, and running hyperclip so that a signal makes it
# checkpoint and the job requeue itself. Sourced by bash (the job scripts), not run.
#
# The protocol with `hyperclip train --checkpoint F --resume-if-exists F`:
#   SIGUSR1/SIGTERM to the ranks -> every rank finishes its step, the checkpoint is
#   written, hyperclip exits 75 (EX_TEMPFAIL, "requeue me"); 0 = run complete (also when
#   the checkpoint is of a run that is already complete); 1 error; 2 usage; 3 diverged.

HC_EX_TEMPFAIL=75

# One log line, with time and job id (the log is shared by every run of a requeued job).
hc_log() {
    printf '%s [job %s] %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "${SLURM_JOB_ID:-none}" "$*"
}

# Open MPI refuses to run as root unless told, and a Slurm allocation may give fewer
# cores than ranks on small test machines. One BLIS thread per rank unless set otherwise
# (Debian's BLIS is the OpenMP flavour: OMP_NUM_THREADS would set its threads too).
hc_mpi_env() {
    if [ "$(id -u)" -eq 0 ]; then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi
    export OMPI_MCA_rmaps_base_oversubscribe=1
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
}

# What this run of the job is. SLURM_RESTART_COUNT is 0 (unset) on the first run and goes
# up by one at every requeue; the tests grep this exact "SLURM_RESTART_COUNT=N" line.
hc_banner() {
    hc_traps
    hc_log "start on $(hostname -s): SLURM_RESTART_COUNT=${SLURM_RESTART_COUNT:-0}" \
        "ntasks=${SLURM_NTASKS:-?}${SLURM_ARRAY_TASK_ID:+ array_task=$SLURM_ARRAY_TASK_ID}"
}

# hc_run CMD ARGS... : runs the command (mpirun ...) in the background and waits for it to
# really end, forwarding SIGUSR1 and SIGTERM from Slurm to it as SIGUSR1. Sets HC_RC to
# its exit code.
#
# Why in the background: bash runs a trap only between commands, so while a foreground
# mpirun runs, the signal would wait until mpirun is done. `wait` is interrupted by a
# trapped signal instead (it returns 128+signal while mpirun still runs), hence the loop.
# Why TERM is forwarded as USR1: mpirun answers SIGTERM by killing its ranks, but SIGUSR1
# it forwards to them, and hyperclip checkpoints on either.
hc_run() {
    hc_traps
    # Told to stop before anything ran: the last checkpoint (if any) is still current, so
    # answer as hyperclip would have, without starting it.
    if [ "$HC_PENDING" -gt 0 ]; then
        HC_RC=$HC_EX_TEMPFAIL
        return
    fi
    "$@" &
    HC_PID=$!
    # A signal that came between the start and the line above is passed on now.
    if [ "$HC_PENDING" -gt 0 ]; then
        kill -USR1 "$HC_PID" 2>/dev/null
    fi
    while :; do
        local seen=$HC_SIGNALS
        wait "$HC_PID"
        HC_RC=$?
        # Returned because a trap ran, not because mpirun ended: wait again. bash keeps the
        # exit status of an ended child, so a second wait also returns it if mpirun ended
        # just as the signal came.
        if [ "$HC_RC" -gt 128 ] && [ "$HC_SIGNALS" -ne "$seen" ]; then
            continue
        fi
        break
    done
}

# Installs the USR1 and TERM traps. Called by hc_banner, at the very start of a job, so
# that an early signal is not fatal to the batch shell (the default action of SIGUSR1 is
# to terminate): before mpirun runs it is remembered, afterwards forwarded.
hc_traps() {
    HC_PID=${HC_PID:-}
    HC_PENDING=${HC_PENDING:-0}
    HC_SIGNALS=${HC_SIGNALS:-0}
    trap 'hc_forward USR1' USR1
    trap 'hc_forward TERM' TERM
}

hc_forward() {
    HC_SIGNALS=$((HC_SIGNALS + 1))
    if [ -z "$HC_PID" ]; then
        HC_PENDING=$((HC_PENDING + 1))
        hc_log "got SIG$1 before hyperclip started"
        return
    fi
    hc_log "got SIG$1: telling hyperclip (pid $HC_PID) to checkpoint and stop"
    kill -USR1 "$HC_PID" 2>/dev/null
}

# hc_finish CODE : ends the job script according to hyperclip's exit code.
#   75 -> requeue this job (it resumes from the checkpoint) and exit 0;
#   0  -> done; anything else -> exit with it.
hc_finish() {
    case $1 in
    0)
        hc_log "done: the run is complete"
        exit 0 ;;
    "$HC_EX_TEMPFAIL")
        if [ -z "${SLURM_JOB_ID:-}" ]; then
            hc_log "stopped after writing a checkpoint; not under Slurm: run again to resume"
            exit "$HC_EX_TEMPFAIL"
        fi
        # Say it before requeueing: the requeue ends this batch script soon after.
        hc_log "stopped after writing a checkpoint: requeueing job $SLURM_JOB_ID"
        if scontrol requeue "$SLURM_JOB_ID"; then
            exit 0
        fi
        # E.g. the job was cancelled or hit its time limit: Slurm will not take it back.
        hc_log "scontrol requeue failed: submit the job again to resume from the checkpoint"
        exit "$HC_EX_TEMPFAIL" ;;
    3)
        hc_log "diverged (exit 3): metrics saved; not requeueing"
        exit 3 ;;
    *)
        hc_log "hyperclip failed with exit code $1; not requeueing"
        exit "$1" ;;
    esac
}

# hc_epochs_recorded METRICS.h5 : prints how many epochs the metrics file holds (the
# length of /epochs/test_error), 0 when there is no such file or dataset.
hc_epochs_recorded() {
    local n=""
    if [ -f "$1" ]; then
        n=$(h5dump -H -d /epochs/test_error "$1" 2>/dev/null |
            sed -n 's/.*DATASPACE *SIMPLE *{ *( *\([0-9]*\) *).*/\1/p' | head -1)
    fi
    echo "${n:-0}"
}
