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

# The site settings: HC_PARTITION HC_ACCOUNT HC_QOS HC_TIME HC_NODES HC_TASKS_PER_NODE
# HC_CPUS_PER_TASK HC_SIGNAL_LEAD (read by jobs/submit) and HC_MODULES HC_LAUNCHER
# HC_OVERSUBSCRIBE (read by the job when it runs). Each comes from the environment, else
# from the site file: $HC_SITE, else jobs/site.conf when there is one; lines HC_NAME=VALUE
# (quotes around VALUE optional, # comments). The file is read, never run.
HC_SITE_KEYS="HC_PARTITION HC_ACCOUNT HC_QOS HC_TIME HC_NODES HC_TASKS_PER_NODE
    HC_CPUS_PER_TASK HC_SIGNAL_LEAD HC_MODULES HC_LAUNCHER HC_OVERSUBSCRIBE"

# hc_site JOBS_DIR : fills the HC_* site settings that the environment leaves unset.
hc_site() {
    local file=${HC_SITE:-$1/site.conf} line key value
    if [ -n "${HC_SITE:-}" ] && [ ! -r "$HC_SITE" ]; then
        hc_log "HC_SITE=$HC_SITE: no such file"
        exit 2
    fi
    [ -r "$file" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        key="" value=""
        if [[ $line =~ ^[[:space:]]*(HC_[A-Z_]+)=(.*)$ ]]; then
            key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
        fi
        if [ -z "$key" ] || ! [[ " $(echo $HC_SITE_KEYS) " == *" $key "* ]]; then
            hc_log "$file: not a site setting: $line (known: $(echo $HC_SITE_KEYS))"
            exit 2
        fi
        value=${value%"${value##*[![:space:]]}"}
        [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]] && value=${BASH_REMATCH[1]}
        [ -n "${!key+set}" ] || export "$key=$value"
    done < "$file"
}

# Open MPI refuses to run as root unless told. More ranks than cores only when asked
# (HC_OVERSUBSCRIBE=1): on a cluster an oversubscribed node is a wrong allocation, and
# it should fail rather than run slowly. One BLIS thread per rank unless set otherwise
# (Debian's BLIS is the OpenMP flavour: OMP_NUM_THREADS would set its threads too).
hc_mpi_env() {
    if [ "$(id -u)" -eq 0 ]; then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi
    if [ "${HC_OVERSUBSCRIBE:-0}" = 1 ]; then
        export OMPI_MCA_rmaps_base_oversubscribe=1
    fi
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}"
}

# hc_modules : `module load $HC_MODULES` when set (Environment Modules or Lmod; their
# shell set-up is sourced when a batch shell lacks the `module` function).
hc_modules() {
    [ -n "${HC_MODULES:-}" ] || return 0
    if ! type module >/dev/null 2>&1; then
        local init
        for init in /etc/profile.d/modules.sh /usr/share/modules/init/bash \
                    /usr/share/lmod/lmod/init/bash /etc/profile.d/lmod.sh; do
            # shellcheck disable=SC1090
            [ -r "$init" ] && . "$init" >/dev/null 2>&1 && type module >/dev/null 2>&1 && break
        done
    fi
    if ! type module >/dev/null 2>&1; then
        hc_log "HC_MODULES='$HC_MODULES' but no module command here (Environment Modules or Lmod)"
        exit 1
    fi
    # shellcheck disable=SC2086
    if ! module load $HC_MODULES; then
        hc_log "module load $HC_MODULES failed"
        exit 1
    fi
    hc_log "modules loaded: $HC_MODULES"
}

# hc_launcher RANKS : sets HC_LAUNCH to the words that start RANKS ranks of a program:
# HC_LAUNCHER is `mpirun` (the default) or `srun ...` (e.g. `srun --mpi=pmix`, which
# starts the job's tasks as one job step).
hc_launcher() {
    local words
    read -r -a words <<< "${HC_LAUNCHER:-mpirun}"
    case ${words[0]:-} in
    mpirun)
        HC_LAUNCH=("${words[@]}" -np "$1") ;;
    srun)
        HC_LAUNCH=("${words[@]}" --ntasks="$1")
        [ "${HC_OVERSUBSCRIBE:-0}" = 1 ] && HC_LAUNCH+=(--overcommit) ;;
    *)
        hc_log "HC_LAUNCHER='${HC_LAUNCHER:-}': expected mpirun or srun ..."
        exit 2 ;;
    esac
}

# What this run of the job is. SLURM_RESTART_COUNT is 0 (unset) on the first run and goes
# up by one at every requeue; the tests grep this exact "SLURM_RESTART_COUNT=N" line.
hc_banner() {
    hc_traps
    hc_log "start on $(hostname -s): SLURM_RESTART_COUNT=${SLURM_RESTART_COUNT:-0}" \
        "ntasks=${SLURM_NTASKS:-?} nodes=${SLURM_JOB_NODELIST:-?}${SLURM_ARRAY_TASK_ID:+ array_task=$SLURM_ARRAY_TASK_ID}"
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
    hc_log "run: $*"
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

# hc_help SCRIPT ARGS... : when a word of ARGS is -h or --help, prints SCRIPT's header
# comment (from its "usage:" line to the first #SBATCH line) and exits 0. Nothing else runs.
hc_help() {
    local script=$1 w
    shift
    for w; do
        case $w in
        -h | --help)
            sed -n '/^# usage:/,/^#SBATCH\|^[^#]/{/^#SBATCH\|^[^#]/d;s/^# \{0,1\}//;p;}' "$script"
            exit 0 ;;
        esac
    done
}

# hc_names OPTION WORDS... : whether the words name the option (--opt VALUE or --opt=VALUE).
hc_names() {
    local opt=$1 w
    shift
    for w; do
        [[ $w == "$opt" || $w == "$opt="* ]] && return 0
    done
    return 1
}

# hc_train_args OPTION VALUE [OPTION VALUE]... : sets HC_ARGS to the job's `hyperclip train`
# options: the OPTION VALUE defaults that EXTRA_ARGS does not name, then EXTRA_ARGS (split
# at spaces), so that EXTRA_ARGS overrides a default instead of clashing with it. The
# options the job owns (its checkpoint and metrics files, which make the requeue protocol)
# are refused: exit 2, one line.
hc_train_args() {
    local extra opt
    read -r -a extra <<< "${EXTRA_ARGS:-}"
    for opt in --checkpoint --resume --resume-if-exists --metrics; do
        if hc_names "$opt" "${extra[@]}"; then
            hc_log "EXTRA_ARGS may not set $opt: the job keeps its checkpoint and metrics in RUN_DIR"
            exit 2
        fi
    done
    HC_ARGS=()
    while [ $# -ge 2 ]; do
        hc_names "$1" "${extra[@]}" || HC_ARGS+=("$1" "$2")
        shift 2
    done
    HC_ARGS+=("${extra[@]}")
}

# hc_need_data DIR : the data folder must be there (else one line naming tools/fetch-data).
hc_need_data() {
    [ -d "$1" ] && return 0
    hc_log "no data folder $1: download one with tools/fetch-data mnist|fashion-mnist|cifar10 $1, or set DATA"
    exit 1
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
