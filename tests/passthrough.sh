#!/bin/bash
# Wrappers pass arguments through: extra options given to tools/quickstart, to tools/sweep
# --train-args and in a job script's EXTRA_ARGS replace the wrapper's defaults instead of
# clashing with them ("option given twice"); the options a wrapper must own (its files)
# are refused in one line; a missing data folder is reported naming tools/fetch-data.
set -u
: "${HYPERCLIP:=./hyperclip}" "${TESTBIN:=tests}" "${srcdir:=.}" "${H5DUMP:=h5dump}"
src=$(cd "$srcdir" && pwd)
. "$src/jobs/lib.sh"   # hc_epochs_recorded
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=0
t() { i=$((i + 1)); if eval "$2"; then echo "ok $i - $1"; else echo "not ok $i - $1"; [ -n "${3:-}" ] && tail -n 8 "$3" | sed 's/^/# /'; fi; }
attr() { "$H5DUMP" -a "$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' | head -1; }
"$TESTBIN/gen_data" "$dir/data" --train 256 --test 64 --rows 8 --cols 8 >/dev/null

# ---- tools/quickstart: its defaults are --stack, --epochs 5, --metrics main-metrics.h5 ----
(cd "$dir" && timeout 300 "$src/tools/quickstart" --data "$dir/data" --epochs 1 --seed 7 \
    --batch 64 --metrics "$dir/qs.h5" --stack 'sgd / sgd(alpha=1e-2)' --progress never) \
    >"$dir/qs.out" 2>&1; code=$?
t "tools/quickstart --epochs 1 --metrics F --stack S ...: exit 0 (got $code), no clash" \
  '[ $code -eq 0 ] && ! grep -q "given twice" "$dir/qs.out"' "$dir/qs.out"
t "tools/quickstart: the given --epochs, --metrics, --stack and --seed were used (1 epoch in qs.h5, seed 7, stack sgd / sgd)" \
  '[ "$(hc_epochs_recorded "$dir/qs.h5")" = 1 ] && [ "$(attr "$dir/qs.h5" seed)" = 7 ] &&
   attr "$dir/qs.h5" stack | grep -q "^sgd(.*) / sgd(" && [ ! -e "$src/main-metrics.h5.new" ]' "$dir/qs.out"

# a file of yours is never replaced: a --checkpoint is refused for the nine runs, and with
# --stack (one run) it is the user's own, which hyperclip refuses to replace unasked
echo precious > "$dir/mine.h5"
(cd "$dir" && timeout 60 "$src/tools/quickstart" --data "$dir/data" --checkpoint "$dir/mine.h5") \
    >"$dir/qs2.out" 2>&1; code=$?
t "tools/quickstart --checkpoint F (the nine runs): exit 2 (got $code), one line, F untouched" \
  '[ $code -eq 2 ] && [ "$(wc -l < "$dir/qs2.out")" -eq 1 ] && grep -q "is for one run" "$dir/qs2.out" && [ "$(cat "$dir/mine.h5")" = precious ]' "$dir/qs2.out"
(cd "$dir" && timeout 300 "$src/tools/quickstart" --data "$dir/data" --epochs 1 --batch 64 \
    --stack 'sgd / sgd(alpha=1e-2)' --checkpoint "$dir/mine.h5" --metrics "$dir/qs3.h5" --progress never) >"$dir/qs3.out" 2>&1; code=$?
t "tools/quickstart --stack S --checkpoint F, F existing: refused by hyperclip (exit $code), F untouched" \
  '[ $code -ne 0 ] && grep -q "checkpoint $dir/mine.h5 already exists" "$dir/qs3.out" && [ "$(cat "$dir/mine.h5")" = precious ]' "$dir/qs3.out"

# ---- jobs/sweep.sbatch: a grid value that would fail every task is refused up front ----
for bad in "TRIALS=0|TRIALS must be a whole number" "TRIALS=abc|TRIALS must be a whole number" \
           "CLIPS=maybe|CLIPS: 'maybe' is not on or off" "ALPHAS=1e400|ALPHAS: '1e400' is not a positive finite number" \
           "EPOCHS_ADAM=0|EPOCHS_ADAM must be" "STACK_PRIMARIES=adm|unknown primary 'adm'"; do
    env "${bad%%|*}" "$src/jobs/sweep.sbatch" --print-grid > "$dir/grid.out" 2>&1; code=$?
    t "jobs/sweep.sbatch --print-grid with ${bad%%|*}: exit 2 (got $code), one line '${bad#*|}'" \
      '[ $code -eq 2 ] && [ "$(wc -l < "$dir/grid.out")" -eq 1 ] && grep -qF -- "${bad#*|}" "$dir/grid.out"' "$dir/grid.out"
done
TRIALS=0 SBATCH=false "$src/jobs/submit" --dry-run sweep --time 1:00:00 > "$dir/sub.out" 2>&1; code=$?
t "jobs/submit sweep with TRIALS=0: exit 2 (got $code), the grid's message, nothing submitted" \
  '[ $code -eq 2 ] && grep -q "TRIALS must be a whole number" "$dir/sub.out" && ! grep -q -- "--array" "$dir/sub.out"' "$dir/sub.out"

# ---- tools/sweep --train-args ----
sweep=("$src/tools/sweep" --primary sgd --alphas 1e-2 --clip on --trials 1 --no-baseline
       --data "$dir/data" --out "$dir/sweep" --hyperclip "$HYPERCLIP")
"${sweep[@]}" --train-args '--seed 7 --batch 64 --epochs 1' >"$dir/sw.out" 2>&1; code=$?
m=$dir/sweep/grid_sgd/sgd_sgd_a1e-2_clipon_t1.metrics.h5
t "tools/sweep --train-args '--seed 7 --batch 64 --epochs 1': exit 0 (got $code)" '[ $code -eq 0 ]' "$dir/sw.out"
t "tools/sweep: the cell ran with seed 7 (not its trial's 1), batch 64, 1 epoch, and counts as complete" \
  '[ "$(attr "$m" seed)" = 7 ] && [ "$(attr "$m" global_batch)" = 64 ] && [ "$(hc_epochs_recorded "$m")" = 1 ] &&
   "${sweep[@]}" --train-args "--seed 7 --batch 64 --epochs 1" 2>&1 | grep -q "0 run, 1 skipped"' "$dir/sw.out"
"${sweep[@]}" --train-args '--metrics x.h5' >"$dir/sw2.out" 2>&1; code=$?
t "tools/sweep --train-args '--metrics x.h5': refused, exit 2, one line (got $code)" \
  '[ $code -eq 2 ] && [ "$(grep -c . "$dir/sw2.out")" -eq 1 ] && grep -q "may not set --metrics" "$dir/sw2.out"' "$dir/sw2.out"
"$src/tools/sweep" --primary sgd --alphas 1e-2 --data "$dir/nothere" >"$dir/sw3.out" 2>&1; code=$?
t "tools/sweep with a missing data folder: exit 2 (got $code), one line naming tools/fetch-data" \
  '[ $code -eq 2 ] && [ "$(grep -c . "$dir/sw3.out")" -eq 1 ] && grep -q "tools/fetch-data mnist" "$dir/sw3.out"' "$dir/sw3.out"

# ---- jobs/train.sbatch outside Slurm: EXTRA_ARGS over the job's defaults ----
job() {  # job NAME EXTRA_ARGS [DATA]
    (cd "$dir" && env -u SLURM_JOB_ID RUN_DIR="$dir/$1" DATA="${3:-$dir/data}" HYPERCLIP="$HYPERCLIP" \
        STACK='sgd / sgd(alpha=1e-2)' EPOCHS=3 EXTRA_ARGS="$2" HC_OVERSUBSCRIBE=1 \
        timeout 300 "$src/jobs/train.sbatch") >"$dir/$1.out" 2>&1
}
job j1 "--seed 7 --epochs 1 --batch 64 --threads 1"; code=$?
t "jobs/train.sbatch with EXTRA_ARGS='--seed 7 --epochs 1 --batch 64 --threads 1': exit 0 (got $code)" \
  '[ $code -eq 0 ] && grep -q "done: the run is complete" "$dir/j1.out"' "$dir/j1.out"
t "jobs/train.sbatch: EXTRA_ARGS won over the defaults (seed 7 not 1, 1 epoch not 3, batch 64 not 256)" \
  '[ "$(attr "$dir/j1/metrics.h5" seed)" = 7 ] && [ "$(hc_epochs_recorded "$dir/j1/metrics.h5")" = 1 ] &&
   [ "$(attr "$dir/j1/metrics.h5" global_batch)" = 64 ]' "$dir/j1.out"
job j2 "--checkpoint $dir/x.h5"; code=$?
t "jobs/train.sbatch with EXTRA_ARGS='--checkpoint F': refused before running, exit 2 (got $code), one line saying so" \
  '[ $code -eq 2 ] && [ "$(grep -c "EXTRA_ARGS may not set --checkpoint" "$dir/j2.out")" -eq 1 ] && [ ! -e "$dir/j2" ]' "$dir/j2.out"
job j3 "" "$dir/nothere"; code=$?
t "jobs/train.sbatch with a missing DATA folder: exit 1 (got $code), one line naming tools/fetch-data" \
  '[ $code -eq 1 ] && [ "$(grep -c "tools/fetch-data" "$dir/j3.out")" -eq 1 ] && [ ! -e "$dir/j3" ]' "$dir/j3.out"
echo "1..$i"
