#!/bin/bash
# Faults a long run meets on a shared machine (issue 7, "Faults"):
#   (a) one rank killed with kill -9 mid-run under mpirun -np 2 (rank 1, then rank 0, the
#       one that writes checkpoints): the job ends within 30 s, exits non-zero, no rank is
#       left running, and the last --checkpoint-every checkpoint is intact and resumes;
#   (b) a rank that cannot open its data (MPMD: the other rank's folder is fine): every
#       rank exits, no hang, exit non-zero, one message naming what is missing;
#       And an option only rank 1 was given: exit 2 on every rank, one message;
#   (b') a rank out of memory while the trainer is set up (ulimit -v on one rank): every
#       rank exits with 1 and one message, no hang;
#   (c) a read-only checkpoint folder: one clear error, the old checkpoint untouched, no
#       temporary file left, and the error comes before the first step;
#   (d) a non-finite loss under mpirun -np 2: exit 3, the step and the hyperparameter that
#       went first, metrics saved, and the last checkpoint kept is a good one;
#   (e) a stalled rank (SIGSTOP: alive, silent) under the watchdog, 2 and 3 ranks (and 3
#       with the sharded update): the job ends within the limit plus the roll call, exit
#       4, one message naming the rank and its host, no rank left (the stopped one
#       included), the checkpoint resumes; a rank stopped during start-up (loading the
#       data, before the trainer exists) ends the job the same way; and a rank stopped inside the blocking gradient
#       allreduce itself (held there by gdb).
# Environment: HYPERCLIP (the program), TESTBIN (tests folder with gen_data), MPIRUN.
set -u
: "${MPIRUN:=mpirun}" "${TESTBIN:=tests}" "${HYPERCLIP:=./hyperclip}"
export OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-1}"
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}"
export OMPI_MCA_rmaps_base_oversubscribe="${OMPI_MCA_rmaps_base_oversubscribe:-1}"
dir=$(mktemp -d)
cleanup() {
    chmod -R u+w "$dir" 2>/dev/null
    mountpoint -q "$dir/ro" 2>/dev/null && umount "$dir/ro"
    rm -rf "$dir"
}
trap cleanup EXIT
i=0
t() {  # description, shell condition, [file to show on failure]
    i=$((i + 1))
    if eval "$2"; then echo "ok $i - $1"
    else echo "not ok $i - $1"; [ -n "${3:-}" ] && sed 's/^/# /' "$3" | tail -n 12; fi
}
now_ms() { local u=${EPOCHREALTIME/[.,]/}; echo $((u / 1000)); }
# PIDs of hyperclip processes whose command line mentions $1 (ranks; not mpirun or timeout).
ranks_of() {
    local p cmd
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null < "$p/cmdline") || continue
        case $cmd in *"$HYPERCLIP"*train*"$1"*) ;; *) continue ;; esac
        case $cmd in *mpirun*|*orterun*|timeout*) continue ;; esac
        echo "${p#/proc/}"
    done
}
rank_pid() {  # world rank, pattern
    local p
    for p in $(ranks_of "$2"); do
        tr '\0' '\n' 2>/dev/null < "/proc/$p/environ" | grep -qx "OMPI_COMM_WORLD_RANK=$1" && { echo "$p"; return; }
    done
}
errors() { grep -c 'hyperclip: error:' "$1"; }

"$TESTBIN/gen_data" "$dir/big" --train 6000 --test 200 --rows 28 --cols 28 >/dev/null
"$TESTBIN/gen_data" "$dir/small" --train 256 --test 64 --rows 8 --cols 8 >/dev/null

# ---- (a) kill -9 of one rank mid-run ----
# 10 epochs of 188 steps: long enough that the kill lands mid-run on a fast machine too
job=(train --data "$dir/big" --batch 32 --epochs 10 --quiet --stack 'adam / sgd(alpha=1e-3, clip=on)')
for victim in 1 0; do
    ck=$dir/kill$victim/ck.h5 out=$dir/kill$victim.out
    mkdir -p "$dir/kill$victim"
    timeout 120 "$MPIRUN" -np 2 "$HYPERCLIP" "${job[@]}" --checkpoint "$ck" --checkpoint-every 10 \
        > "$out" 2>&1 &
    job_pid=$!
    for _ in $(seq 1200); do [ -e "$ck" ] && break; sleep 0.05; done   # slow under sanitizers
    sleep 0.3                                  # checkpoints every 10 steps go on meanwhile
    pid=$(rank_pid $victim "$ck")
    start=$(now_ms)
    [ -n "$pid" ] && kill -9 "$pid"
    wait $job_pid; code=$?
    took=$(( $(now_ms) - start ))
    left=$(ranks_of "$ck")
    t "kill -9 of rank $victim (pid ${pid:-none found}) mid-run: the job ends within 30 s (took ${took} ms) and exits non-zero (exit $code)" \
      '[ -n "$pid" ] && [ $took -lt 30000 ] && [ $code -ne 0 ] && [ $code -ne 124 ]' "$out"
    t "kill -9 of rank $victim: the job's output names the rank and its host (mpirun's report)" \
      'grep -qE "process rank $victim with PID [0-9]+ on node $(hostname) exited on signal 9" "$out"' "$out"
    t "kill -9 of rank $victim: no rank is left running${left:+ (left: $left)}" '[ -z "$left" ]'
    [ -n "$left" ] && kill -9 $left 2>/dev/null
    "$HYPERCLIP" "${job[@]}" --checkpoint "$dir/kill$victim/resumed.h5" --resume "$ck" \
        > "$dir/resume$victim.out" 2>&1; code=$?
    step=$(sed -n 's/^resumed from .* at step \([0-9]*\).*/\1/p' "$dir/resume$victim.out")
    t "kill -9 of rank $victim: the last checkpoint (step ${step:-?}: every 10 steps and at epoch ends) is intact and the run resumes to the end (exit $code)" \
      '[ $code -eq 0 ] && [ -n "$step" ] && [ "$step" -gt 0 ] && { [ $((step % 10)) -eq 0 ] || [ $((step % 188)) -eq 0 ]; } && [ "$step" -lt 1880 ] && grep -q "final test error" "$dir/resume$victim.out"' \
      "$dir/resume$victim.out"
done

# ---- (b) one rank cannot open its data (MPMD: its folder or one of its files is missing) ----
mkdir -p "$dir/partial"
cp "$dir/small"/* "$dir/partial/" && rm "$dir/partial/t10k-labels-idx1-ubyte"
# t() evaluates its condition in its own scope: the values it needs are globals.
mpmd() {  # id, description, data of rank 0, data of rank 1, text the message must hold
    local start
    m_out=$dir/mpmd-$1.out m_text=$5
    start=$(now_ms)
    timeout 60 "$MPIRUN" -np 1 "$HYPERCLIP" train --data "$3" --batch 32 --quiet \
        : -np 1 "$HYPERCLIP" train --data "$4" --batch 32 --quiet > "$m_out" 2>&1
    m_code=$?
    m_took=$(( $(now_ms) - start ))
    t "$2: every rank exits, no hang (${m_took} ms, bounded by timeout 60), exit non-zero (exit $m_code)" \
      '[ $m_code -ne 0 ] && [ $m_code -ne 124 ] && [ -z "$(ranks_of "$dir/partial")$(ranks_of "$dir/missing")" ]' "$m_out"
    t "$2: exactly one error message, naming $5" \
      '[ "$(errors "$m_out")" -eq 1 ] && grep "hyperclip: error:" "$m_out" | grep -qF -- "$m_text"' "$m_out"
}
mpmd 1 "rank 1's data folder is missing" "$dir/small" "$dir/missing" "data folder not found: $dir/missing"
mpmd 0 "rank 0's data folder is missing" "$dir/missing" "$dir/small" "data folder not found: $dir/missing"
mpmd file "rank 1's folder lacks t10k-labels-idx1-ubyte" "$dir/small" "$dir/partial" "$dir/partial/t10k-labels-idx1-ubyte"

# an option that only rank 1 was given (MPMD): its error is every rank's, no hang
"$HYPERCLIP" train --data "$dir/small" --max-steps 1 --quiet --checkpoint "$dir/one.h5" >/dev/null 2>&1
for cmd in train eval; do
    extra=(); [ $cmd = eval ] && extra=(--checkpoint "$dir/one.h5")
    start=$(now_ms)
    timeout 60 "$MPIRUN" -np 1 "$HYPERCLIP" $cmd --data "$dir/small" "${extra[@]}" \
        : -np 1 "$HYPERCLIP" $cmd --data "$dir/small" "${extra[@]}" --bogus > "$dir/mpmd-opt.out" 2>&1
    b_code=$? b_took=$(( $(now_ms) - start ))
    t "$cmd: rank 1 alone has a bad option: every rank exits 2 at once, no hang (${b_took} ms; exit $b_code)" \
      '[ $b_code -eq 2 ]' "$dir/mpmd-opt.out"
    t "$cmd: ... one error message, naming the option" \
      '[ "$(errors "$dir/mpmd-opt.out")" -eq 1 ] && grep -q "unknown option .--bogus." "$dir/mpmd-opt.out"' "$dir/mpmd-opt.out"
done

# ---- (b') one rank runs out of memory while the trainer is set up ----
# `ulimit -v` on rank 1 only; a global batch of 2,000,000 28x28 samples asks each rank for
# gigabytes of batch buffers and workspace: below 1 GB the model's workspace fails first,
# at 2.5 GB the trainer's buffers. The other rank must not wait for it in a collective.
oom() {  # limit in KB, text the message must hold
    local start
    o_out=$dir/oom-$1.out o_text=$2
    start=$(now_ms)
    timeout 60 "$MPIRUN" -np 2 sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then ulimit -v '"$1"'; fi
        exec "$0" "$@"' "$HYPERCLIP" train --data "$dir/big" --batch 2000000 --max-steps 1 \
        --watchdog 5 --quiet --metrics "$dir/oom-$1.h5" > "$o_out" 2>&1
    o_code=$?
    o_took=$(( $(now_ms) - start ))
    t "rank 1 out of memory under ulimit -v $1 KB: every rank exits with 1, no hang (${o_took} ms, bounded by timeout 60; exit $o_code)" \
      '[ $o_code -eq 1 ] && [ -z "$(ranks_of "oom-$1")" ]' "$o_out"
    t "rank 1 out of memory ($1 KB): exactly one error message, '$2', and no metrics file" \
      '[ "$(errors "$o_out")" -eq 1 ] && grep "hyperclip: error:" "$o_out" | grep -qF -- "$o_text" && [ ! -e "$dir/oom-$1.h5" ]' "$o_out"
}
if [ -n "${ASAN_OPTIONS:-}" ]; then
    for k in 1 2 3 4; do i=$((i + 1)); echo "ok $i # SKIP a rank out of memory: AddressSanitizer reserves terabytes of address space, which ulimit -v forbids"; done
else
    oom 800000 "out of memory for the mlp workspace"
    oom 2500000 "out of memory for the trainer"
fi

# ---- (c) a read-only checkpoint folder ----
ro=$dir/ro
mkdir -p "$ro"
# As root, permission bits do not stop writes: use a tmpfs remounted read-only.
if [ "$(id -u)" -eq 0 ]; then
    mount -t tmpfs -o size=16m tmpfs "$ro" 2>/dev/null || ro_skip="cannot mount a tmpfs (needs CAP_SYS_ADMIN)"
fi
if [ -z "${ro_skip:-}" ]; then
    small=(train --data "$dir/small" --batch 32 --epochs 3 --stack 'adam / sgd(alpha=1e-3, clip=on)')
    "$HYPERCLIP" "${small[@]}" --quiet --checkpoint "$ro/ck.h5" --max-steps 3 > "$dir/ro0.out" 2>&1
    before=$(cksum < "$ro/ck.h5")
    if [ "$(id -u)" -eq 0 ]; then mount -o remount,ro "$ro" || ro_skip="cannot remount read-only"
    else chmod 555 "$ro"; fi
fi
if [ -n "${ro_skip:-}" ]; then
    for n in 1 2 3 4 5; do i=$((i + 1)); echo "ok $i - # SKIP read-only folder: $ro_skip"; done
else
    for case in resume fresh; do
        out=$dir/ro-$case.out
        if [ $case = resume ]; then
            "$HYPERCLIP" "${small[@]}" --checkpoint "$ro/ck.h5" --resume "$ro/ck.h5" > "$out" 2>&1; code=$?
        else
            "$HYPERCLIP" "${small[@]}" --checkpoint "$ro/new.h5" > "$out" 2>&1; code=$?
        fi
        t "read-only checkpoint folder ($case): exit 1 and one clear error naming the checkpoint and the reason" \
          '[ $code -eq 1 ] && [ "$(errors "$out")" -eq 1 ] && grep "hyperclip: error:" "$out" | grep -q "$ro/" && grep -qiE "read-only file system|permission denied" "$out"' "$out"
        [ $case = resume ] &&
            t "read-only checkpoint folder: the error comes before the first step, not at the first checkpoint" \
              '! grep -q "^epoch" "$out"' "$out"
    done
    t "read-only checkpoint folder: the old checkpoint is untouched and no temporary file is left" \
      '[ "$(cksum < "$ro/ck.h5")" = "$before" ] && [ "$(ls "$ro")" = ck.h5 ]'
    cp "$ro/ck.h5" "$dir/ro-copy.h5"
    "$HYPERCLIP" "${small[@]}" --quiet --checkpoint "$dir/ro-copy.h5" --resume "$dir/ro-copy.h5" --max-steps 5 \
        > "$dir/ro-resume.out" 2>&1; code=$?
    t "read-only checkpoint folder: the old checkpoint still resumes (exit $code)" '[ $code -eq 0 ]' "$dir/ro-resume.out"
fi
if [ "$(id -u)" -eq 0 ]; then mountpoint -q "$ro" && umount "$ro"; else chmod 755 "$ro"; fi

# ---- (d) a non-finite loss under mpirun: the step, the hyperparameter that went first, exit 3 ----
out=$dir/nan.out
"$MPIRUN" -np 2 "$HYPERCLIP" train --data "$dir/small" --batch 32 --epochs 3 --stack 'rmsprop / sgd(alpha=3e38)' \
    --metrics "$dir/nan.h5" > "$out" 2>&1; code=$?
step=$(sed -n 's/^diverged: the loss became non-finite at step \([0-9]*\).*/\1/p' "$out")
t "non-finite loss on 2 ranks: exit 3 (got $code)" '[ $code -eq 3 ]' "$out"
t "non-finite loss: one report with the step (${step:-?}) and the first non-finite hyperparameter" \
  '[ "$(grep -c "^diverged:" "$out")" -eq 1 ] && [ -n "$step" ] && grep -qE "first non-finite hyperparameter: level [0-9]+ (alpha|mu)" "$out"' "$out"
"$HYPERCLIP" info "$dir/nan.h5" > "$dir/nan-info.out" 2>&1
t "non-finite loss: the metrics file holds every step up to it, the last loss non-finite" \
  'grep -q "^steps: $step steps recorded" "$dir/nan-info.out" && grep -qiE "last loss -?(nan|inf)" "$dir/nan-info.out"' "$dir/nan-info.out"
# checkpointing every step: the weights are already infinite one step before the loss is
# (float32 hyperparameters: the largest finite step size, since a larger one is refused
# when the stack is parsed, and tanh's exact saturation keeps sgd / sgd finite)
out=$dir/nan-ck.out
"$HYPERCLIP" train --data "$dir/small" --batch 32 --epochs 3 --stack 'adam / sgd(alpha=3e38)' \
    --checkpoint "$dir/nan-ck.h5" --checkpoint-every 1 > "$out" 2>&1; code=$?
t "diverging run checkpointing every step: exit 3 and one 'diverged:' report (exit $code)" \
  '[ $code -eq 3 ] && [ "$(grep -c "^diverged: the \(loss\|weights\) became non-finite at step" "$out")" -eq 1 ]' "$out"
"$HYPERCLIP" train --data "$dir/small" --batch 32 --epochs 3 --stack 'adam / sgd(alpha=3e38)' --quiet \
    --checkpoint "$dir/nan-ck2.h5" --resume "$dir/nan-ck.h5" --max-steps 1 > "$dir/nan-resume.out" 2>&1; code=$?
t "diverging run: the last checkpoint kept is a good one (finite, loads: exit $code)" '[ $code -eq 0 ]' "$dir/nan-resume.out"
out=$dir/nan-adam.out
"$HYPERCLIP" train --data "$dir/small" --batch 32 --epochs 3 --stack 'adam / adam(alpha=3e38)' > "$out" 2>&1; code=$?
t "non-finite loss with adam at level 1: exit 3 and names the hyperparameter (exit $code)" \
  '[ $code -eq 3 ] && grep -qE "first non-finite hyperparameter: level [0-9]+ (alpha|beta1|beta2)" "$out"' "$out"

# ---- (e) a stalled rank: SIGSTOP, the watchdog names it and ends the job ----
host=$(hostname)
stall() {  # ranks, victim, extra options...
    local ck=$dir/stall$1-$2/ck.h5 out=$dir/stall$1-$2.out start pid code took left step
    local tag="rank $2 of $1${3:+ (${*:3})}"
    mkdir -p "$dir/stall$1-$2"
    timeout 120 "$MPIRUN" -np "$1" "$HYPERCLIP" "${job[@]}" "${@:3}" --watchdog 3 --checkpoint "$ck" \
        --checkpoint-every 10 > "$out" 2>&1 &
    local job_pid=$!
    for _ in $(seq 1200); do [ -e "$ck" ] && break; sleep 0.05; done
    sleep 0.3
    pid=$(rank_pid "$2" "$ck")
    start=$(now_ms)
    [ -n "$pid" ] && kill -STOP "$pid"
    wait $job_pid; code=$?
    took=$(( $(now_ms) - start ))
    left=$(ranks_of "$ck")
    s_out=$out s_code=$code s_took=$took s_pid=$pid s_victim=$2 s_left=$left
    t "SIGSTOP of $tag (pid ${pid:-none found}), --watchdog 3: the job ends in ${took} ms (< 30 s) with exit 4 (got $code)" \
      '[ -n "$s_pid" ] && [ $s_took -lt 30000 ] && [ $s_code -eq 4 ]' "$out"
    # (or, when the stop fell inside a blocking collective itself, ~0.1 ms a step, the
    # alarm of a rank waiting in it: it cannot name the stopped one, it names the collective)
    t "SIGSTOP of $tag: exactly one error line, naming rank $2 and its host ($host)" \
      '[ "$(errors "$s_out")" -eq 1 ] && grep "hyperclip: error:" "$s_out" | grep -qE "rank $s_victim on $host has not joined|ranks ([0-9]+ on $host, )*$s_victim on $host(, [0-9]+ on $host)* have not joined|on $host waited [0-9]+ s inside the (gradient allreduce|gradient reduce-scatter|allgather of the (hypergradient shares|weights)|gather of the optimizer state for a checkpoint) \(another rank stopped in it\)"' "$out"
    t "SIGSTOP of $tag: no rank left running, the stopped one included${left:+ (left: $left)}" '[ -z "$s_left" ]'
    [ -n "$left" ] && kill -9 $left 2>/dev/null
    "$MPIRUN" -np "$1" "$HYPERCLIP" "${job[@]}" "${@:3}" --max-steps 400 --resume "$ck" > "$dir/stall-resume.out" 2>&1; code=$?
    step=$(sed -n 's/^resumed from .* at step \([0-9]*\).*/\1/p' "$dir/stall-resume.out")
    s_code=$code s_step=$step
    t "SIGSTOP of $tag: the last checkpoint (step ${step:-?}) resumes (exit $code)" \
      '[ $s_code -eq 0 ] && [ -n "$s_step" ] && [ "$s_step" -gt 0 ]' "$dir/stall-resume.out"
}
stall 2 1
stall 3 0
stall 3 1 --sharded-update on   # its shares' and weights' allgathers wait under the alarm

# A checkpoint write slower than --watchdog (an fsync of 8 s, by a preloaded shim): the
# message says it is rank 0's write and that --watchdog sets the limit, not a dead rank
cat > "$dir/slowfsync.c" <<'EOF2'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>
int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    sleep(8);
    return real(fd);
}
EOF2
if [ -n "${ASAN_OPTIONS:-}" ]; then
    for k in 1 2; do i=$((i + 1)); echo "ok $i # SKIP a slow checkpoint write: a preloaded shim cannot come before AddressSanitizer's runtime"; done
elif ! ${CC:-cc} -shared -fPIC -o "$dir/slowfsync.so" "$dir/slowfsync.c" -ldl 2>"$dir/cc.err"; then
    for k in 1 2; do i=$((i + 1)); echo "not ok $i - compile the fsync shim: $(head -1 "$dir/cc.err")"; done
else
    timeout 120 "$MPIRUN" -np 2 -x LD_PRELOAD="$dir/slowfsync.so" "$HYPERCLIP" train --data "$dir/small" \
        --batch 32 --epochs 3 --watchdog 3 --checkpoint "$dir/slow.h5" --quiet > "$dir/slow.out" 2>&1; code=$?
    t "a checkpoint write slower than --watchdog 3: exit 4 (got $code)" '[ $code -eq 4 ]' "$dir/slow.out"
    t "... one line: rank 0 has not joined the others after its checkpoint write, a larger --watchdog" \
      '[ "$(errors "$dir/slow.out")" -eq 1 ] && grep "hyperclip: error:" "$dir/slow.out" | grep -q "rank 0 on $host has not joined the others after its checkpoint write (a slow file system needs a larger --watchdog)"' "$dir/slow.out"
fi

# A rank stopped during start-up, before the trainer's watchdog exists: rank 0 while it
# reads the (gzipped) training images that it loads for the node; rank 1 waits for it in
# the data set's broadcast, under the start-up alarm.
"$TESTBIN/gen_data" "$dir/bigz" --train 60000 --test 100 --rows 28 --cols 28 >/dev/null &&
    gzip -1 "$dir/bigz/train-images-idx3-ubyte"     # about 0.5 s to load
start=$(now_ms)
timeout 120 "$MPIRUN" -np 2 "$HYPERCLIP" train --data "$dir/bigz" --max-steps 1 --watchdog 2 \
    --quiet > "$dir/startup.out" 2>&1 &
job_pid=$!
pid=
for _ in $(seq 3000); do        # a cheap poll: the load takes a fraction of a second
    kill -0 $job_pid 2>/dev/null || break
    for p in $(pgrep -f "train --data $dir/bigz"); do
        tr '\0' '\n' 2>/dev/null < "/proc/$p/environ" | grep -qx OMPI_COMM_WORLD_RANK=0 &&
            ls -l "/proc/$p/fd" 2>/dev/null | grep -q train-images && pid=$p && break 2
    done
    sleep 0.01
done
[ -n "$pid" ] && kill -STOP "$pid"
wait $job_pid; code=$?
took=$(( $(now_ms) - start )) left=$(ranks_of "$dir/bigz")
t "rank 0 stopped while loading the data: the job ends in ${took} ms (< 30 s), exit 4 (got $code)" \
  '[ -n "$pid" ] && [ $took -lt 30000 ] && [ $code -eq 4 ]' "$dir/startup.out"
t "... one error line, from rank 1, naming start-up" \
  '[ "$(errors "$dir/startup.out")" -eq 1 ] && grep "hyperclip: error:" "$dir/startup.out" | grep -qE "rank 1 on $host waited [0-9]+ s for the other ranks during start-up"' "$dir/startup.out"
t "... no rank left running${left:+ (left: $left)}" '[ -z "$left" ]'
[ -n "$left" ] && kill -9 $left 2>/dev/null

# A rank stopped inside a blocking collective itself (gdb holds rank 1 at the call's
# entry, then stops it): the ranks waiting in the collective cannot poll; their CPU-time
# alarm ends the job with one line naming the collective, the stopped rank's own alarm
# never fires. The gradient allreduce, and under the sharded update the allgather of the
# weights.
inside() {   # inside FUNCTION "the collective's name in the message" [options...]
    local fn=$1 name=$2 tag=$3; shift 3
    if ! command -v gdb >/dev/null 2>&1; then
        for k in 1 2 3; do i=$((i + 1)); echo "ok $i # SKIP gdb is not installed (tools/setup --tests installs it)"; done
        return
    fi
    ck=$dir/inside-$tag/ck.h5 out=$dir/inside-$tag.out
    mkdir -p "$dir/inside-$tag"
    timeout 120 "$MPIRUN" -np 3 "$HYPERCLIP" "${job[@]}" --watchdog 3 --checkpoint "$ck" "$@" \
        > "$out" 2>&1 &
    job_pid=$!
    for _ in $(seq 1200); do [ -e "$ck" ] && break; sleep 0.05; done
    pid=$(rank_pid 1 "$ck")
    start=$(now_ms)
    gdb_ok=0
    [ -n "$pid" ] && timeout 60 gdb -batch -p "$pid" -ex "break $fn" -ex continue \
        -ex "shell kill -STOP $pid" -ex detach > "$dir/gdb-$tag.out" 2>&1 &&
        grep -q "Breakpoint 1, .*$fn" "$dir/gdb-$tag.out" && gdb_ok=1
    wait $job_pid; code=$?
    took=$(( $(now_ms) - start )) left=$(ranks_of "$ck")
    in_name=$name
    if [ $gdb_ok = 1 ]; then
        t "rank 1 stopped inside $name: the job ends in ${took} ms (< 30 s), exit 4 (got $code)" \
          '[ $took -lt 30000 ] && [ $code -eq 4 ]' "$out"
        t "stopped inside $name: one error line, from a waiting rank, naming it" \
          '[ "$(errors "$out")" -eq 1 ] && grep "hyperclip: error:" "$out" | grep -qE "rank [02] on $host waited [0-9]+ s inside $in_name \(another rank stopped in it\)"' "$out"
        t "stopped inside $name: no rank left running${left:+ (left: $left)}" '[ -z "$left" ]'
    else
        for k in 1 2 3; do i=$((i + 1)); echo "ok $i # SKIP gdb could not attach to rank 1 (ptrace not permitted here)"; done
    fi
    [ -n "$left" ] && kill -9 $left 2>/dev/null
}
inside PMPI_Allreduce "the gradient allreduce" allreduce
inside PMPI_Allgatherv "the allgather of the weights" weights --sharded-update on
echo "1..$i"
