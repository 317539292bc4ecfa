#!/bin/sh
# tools/sweep and tools/report on a small synthetic sweep that this test runs itself:
# Adam / SGD(alpha) at two alphas, clip off and on, two trials, plus the baseline (Adam
# alone), a few steps each on one rank. The report's table is checked against means and
# standard deviations recomputed here from the metrics files with h5dump and awk (not with
# the report's own h5py code); its figures must be PNGs of the documented pixel sizes; a
# second sweep must skip every complete cell and run only what is missing. The data set
# is what the files are (synthetic here: "unidentified", even in a folder named
# fashion-mnist), so the report does not compare with the paper and says why; a copy of
# the sweep whose sweep.json says MNIST, 5 epochs stands in for a real MNIST sweep (tests
# cannot have the real data) to check the comparison. -j 2 runs two cells at once with
# the same results; every error of the tools is one line.
# The checks are strings run by eval (t below): their $ expand there, not here.
# shellcheck disable=SC2016,SC2034
set -u
: "${HYPERCLIP:=./hyperclip}" "${TESTBIN:=tests}" "${srcdir:=.}" "${H5DUMP:=h5dump}"
SWEEP=$srcdir/tools/sweep
REPORT=$srcdir/tools/report
PAPER=$srcdir/tools/paper_tables.csv

i=0
ok()     { i=$((i + 1)); echo "ok $i - $*"; }
not_ok() { i=$((i + 1)); echo "not ok $i - $*"; }
t()      { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
bail()   { not_ok "$*"; echo "1..$i"; exit 1; }

# The tools run on Debian's Python (their #! line) with Debian's h5py, numpy, matplotlib.
if ! /usr/bin/python3 -c 'import h5py, numpy, matplotlib' 2>/dev/null; then
    echo "not ok 1 - python3-h5py, python3-numpy or python3-matplotlib missing (tools/setup --tests installs them)"; echo "1..1"; exit 1
fi
command -v "$H5DUMP" >/dev/null 2>&1 || { echo "not ok 1 - no h5dump (hdf5-tools)"; echo "1..1"; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/hc-report.XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$dir"' EXIT
"$TESTBIN/gen_data" "$dir/data" --train 512 --test 128 --rows 8 --cols 8 >/dev/null ||
    bail "gen_data failed"
out=$dir/out/small

# 512 samples at the global batch of 256: 2 steps an epoch; Adam's 5 epochs x 0.4 = 2
# epochs, 4 steps, which --max-steps 4 leaves whole.
sweep() {
    "$SWEEP" --primary adam --alphas 1e-3,1e-2 --clip on,off --trials 2 --epochs-scale 0.4 \
        --max-steps 4 --ranks 1 --data "$dir/data" --out "$dir/out" --name small \
        --hyperclip "$HYPERCLIP" "$@"
}

# ---- the sweep --------------------------------------------------------------------------
sweep >"$dir/sweep1.out" 2>&1; code=$?
sed 's/^/# /' "$dir/sweep1.out"
t "sweep: exit 0 (got $code)" '[ $code -eq 0 ]'
t "sweep: ran 10 cells (2 alphas x 2 clips x 2 trials + 2 baselines)" \
  'grep -q "^sweep: 10 run, 0 skipped (complete), 0 failed" "$dir/sweep1.out"'
cells="adam_sgd_a1e-3_clipoff_t1 adam_sgd_a1e-3_clipoff_t2 adam_sgd_a1e-3_clipon_t1
       adam_sgd_a1e-3_clipon_t2 adam_sgd_a1e-2_clipoff_t1 adam_sgd_a1e-2_clipoff_t2
       adam_sgd_a1e-2_clipon_t1 adam_sgd_a1e-2_clipon_t2 adam_t1 adam_t2"
have=0 rows=0 done_ok=0
for c in $cells; do
    [ -s "$out/$c.metrics.h5" ] && have=$((have + 1))
    "$H5DUMP" -H -d /epochs/test_error "$out/$c.metrics.h5" 2>/dev/null |
        grep -q 'SIMPLE { ( 2 )' && rows=$((rows + 1))
    grep -q '^exit=0$' "$out/$c.done" 2>/dev/null && done_ok=$((done_ok + 1))
done
t "sweep: one metrics file per cell, named from the cell ($have of 10)" '[ $have -eq 10 ]'
t "sweep: every metrics file holds the 2 epochs ($rows of 10)" '[ $rows -eq 10 ]'
t "sweep: a done marker with exit 0 per cell ($done_ok of 10)" '[ $done_ok -eq 10 ]'
seeds=$(for c in $cells; do
    "$H5DUMP" -a /seed "$out/$c.metrics.h5" 2>/dev/null | sed -n 's/^ *(0): *//p' | tr '\n' ' '
done)
t "sweep: trial k runs with seed k (seeds: $seeds)" '[ "$seeds" = "1 2 1 2 1 2 1 2 1 2 " ]'
stack=$("$H5DUMP" -a /stack "$out/adam_sgd_a1e-2_clipon_t2.metrics.h5" | sed -n 's/^ *(0): *//p')
t "sweep: the cell's stack is the one its name says ($stack)" \
  'echo "$stack" | grep -q "^\"adam(.*) / sgd(alpha=0.01, .*clip=on)\"$"'
t "sweep: no checkpoints left of finished cells" '[ -z "$(ls "$out"/*.ckpt.h5 2>/dev/null)" ]'
t "sweep: sweep.json records the data set read from the files (unidentified synthetic IDX)" \
  'grep -q "\"dataset\": \"unidentified\"" "$out/sweep.json" && grep -q "\"dataset_evidence\": \"IDX files" "$out/sweep.json"'
mkdir -p "$dir/fashion-mnist" && cp "$dir"/data/* "$dir/fashion-mnist/"
"$SWEEP" --primary adam --alphas 1e-3 --clip on --trials 1 --epochs 1 --no-baseline --ranks 1 \
    --data "$dir/fashion-mnist" --out "$dir/out" --name fashion --hyperclip "$HYPERCLIP" --dry-run >"$dir/fdry.out" 2>&1
t "sweep: a folder named fashion-mnist is still what its files are (unidentified)" \
  'grep -q "(unidentified)" "$dir/fdry.out" && ! grep -q -- "--dataset fashion-mnist" "$dir/fdry.out"'

# -j 2: the same grid again, two cells at once: the same final errors, cell by cell
sweep -j 2 --name small_j2 >"$dir/sweepj.out" 2>&1; code=$?
same=0
for c in $cells; do
    [ -s "$dir/out/small_j2/$c.done" ] &&
        [ "$(grep final_test_error "$out/$c.done")" = "$(grep final_test_error "$dir/out/small_j2/$c.done")" ] &&
        same=$((same + 1))
done
t "sweep -j 2: exit 0, 10 cells run 2 at once (got $code)" \
  '[ $code -eq 0 ] && grep -q "1 rank(s), 2 at once" "$dir/sweepj.out" && grep -q "^sweep: 10 run, 0 skipped" "$dir/sweepj.out"'
t "sweep -j 2: every cell's final test error equals the one-at-a-time run's ($same of 10)" '[ $same -eq 10 ]'

# ---- the report -------------------------------------------------------------------------
# A stand-in for an MNIST sweep with the paper's epochs: the same files, a sweep.json that
# says MNIST (as tools/sweep writes it for the real data) and 5 epochs, no --max-steps.
mkdir -p "$dir/out/as_mnist" && cp -r "$out"/* "$dir/out/as_mnist/"
sed -e 's/"dataset": "unidentified"/"dataset": "mnist"/' -e 's/"max_steps": 4/"max_steps": null/' \
    -e 's/"epochs": 2,/"epochs": 5,/' "$out/sweep.json" >"$dir/out/as_mnist/sweep.json"
"$REPORT" "$out" >"$dir/report0.out" 2>&1
t "report of the synthetic sweep: no paper numbers, and the reason (data set, epochs, --max-steps)" \
  'grep -q "^\*\*Not compared with the paper:\*\* Adam ran 2 epochs, the paper.s 5; every run was cut at --max-steps 4; the data set is unidentified, the paper.s is mnist\.$" "$out.md" &&
   grep -q "^| 0.01 | [^|]* | [^|]* | – | – |" "$out.md"'
out=$dir/out/as_mnist
"$REPORT" "$out" --run "$out/adam_sgd_a1e-2_clipoff_t1.metrics.h5" \
    --run "$out/adam_sgd_a1e-2_clipon_t1.metrics.h5" --png "$dir/run.png" >"$dir/report.out" 2>&1
code=$?
sed 's/^/# /' "$dir/report.out"
t "report: exit 0 (got $code)" '[ $code -eq 0 ]'
md=$out.md
t "report: wrote the Markdown table $md" '[ -s "$md" ]'
sed 's/^/# /' "$md"

# The final test error (%) of a metrics file, all digits, by h5dump.
final_pct() {
    "$H5DUMP" -m '%.17g' -y -d /epochs/test_error "$1" |
        awk '/DATA \{/ && !done { f = 1; next } f && /\}/ { f = 0; done = 1 } f' | tr ',' '\n' |
        awk 'NF { v = $1 } END { printf "%.17g\n", 100 * v }'
}
# mean and sample std of the files' final errors: "MEAN STD"
stats() {
    for f in "$@"; do final_pct "$f"; done |
        awk '{ x[NR] = $1; s += $1 } END { m = s / NR; for (k = 1; k <= NR; k++) q += (x[k] - m) ^ 2;
               printf "%.10f %.10f\n", m, sqrt(q / (NR - 1)) }'
}
# The Markdown row whose first column is $1: its column $2 (1 = alpha).
col() { awk -F'|' -v a="$1" -v c="$2" '{ k = $2; gsub(/^ +| +$/, "", k) } k == a { v = $(c + 1); gsub(/^ +| +$/, "", v); print v; exit }' "$md"; }
# close "12.50 ± 2.21" "MEAN STD": both within rounding of the table's two decimals
close() {
    echo "$1 $2" | awk '{ ok = ($1 - $4 < 0.0051 && $4 - $1 < 0.0051 && $3 - $5 < 0.0051 && $5 - $3 < 0.0051);
                         exit !ok }'
}
for a in 1e-3 1e-2; do
    label=$( [ $a = 1e-3 ] && echo "10⁻³" || echo "0.01")
    for clip in off on; do
        n=$( [ $clip = off ] && echo 2 || echo 3)
        want=$(stats "$out/adam_sgd_a${a}_clip${clip}_t1.metrics.h5" "$out/adam_sgd_a${a}_clip${clip}_t2.metrics.h5")
        got=$(col "$label" "$n")
        t "report: alpha $a clip $clip: table '$got' = mean, std of the files ($want)" 'close "$got" "$want"'
    done
    m_off=$(col "$label" 2 | cut -d' ' -f1) m_on=$(col "$label" 3 | cut -d' ' -f1)
    expect=$(echo "$m_off $m_on" | awk '{ print ($1 - $2 >= 1) ? "✓" : "" }')
    t "report: alpha $a: the 'clip helped' mark ('$(col "$label" 6)') follows the means ($m_off vs $m_on)" \
      '[ "$(col "$label" 6)" = "$expect" ]'
    prow=$(grep "^2,mnist,mlp,adam/sgd,5,$a," "$PAPER")
    p_off=$(echo "$prow" | cut -d, -f7) p_on=$(echo "$prow" | cut -d, -f8)
    t "report: alpha $a: the paper's numbers from tools/paper_tables.csv ($p_off, $p_on)" \
      '[ "$(col "$label" 4)" = "$(printf %.2f "$p_off")" ] && [ "$(col "$label" 5)" = "$(printf %.2f "$p_on")" ]'
done
want=$(stats "$out/adam_t1.metrics.h5" "$out/adam_t2.metrics.h5")
got=$(col "baseline: Adam alone" 2)
t "report: baseline row '$got' = mean, std of the Adam-alone files ($want)" 'close "$got" "$want"'
t "report: baseline row has the paper's Adam-alone number" \
  '[ "$(col "baseline: Adam alone" 4)" = "$(grep "^2,mnist,mlp,adam,5,," "$PAPER" | cut -d, -f7)" ]'
t "report: says all 10 cells are complete" 'grep -q "^- Cells complete: 10 of 10\.$" "$md"'

# PNG: signature, then the IHDR chunk: width and height, 4 bytes each, big-endian.
png_size() {
    [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "not a PNG"; return; }
    od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d\n", (($1 * 256 + $2) * 256 + $3) * 256 + $4, (($5 * 256 + $6) * 256 + $7) * 256 + $8 }'
}
t "report: error-vs-alpha figure $out.png exists and is not empty" '[ -s "$out.png" ]'
sz=$(png_size "$out.png")
t "report: error-vs-alpha figure is an 800x500 PNG ($sz)" '[ "$sz" = 800x500 ]'
t "report: run figure exists and is not empty" '[ -s "$dir/run.png" ]'
sz=$(png_size "$dir/run.png")
# Adam's level 1 has three hyperparameters (alpha, beta1, beta2): 80 + 3 x 240 pixels high.
# Adam's level 1 has three hyperparameters: 110 + (1 + 3) x 200 pixels high.
t "report: run figure (Adam: 3 hyperparameters) is a 1200x910 PNG ($sz)" '[ "$sz" = 1200x910 ]'

# A primary alone has no level 2: its figure has no hypergradient or threshold panels.
"$REPORT" --run "$out/adam_t1.metrics.h5" --png "$dir/base.png" >"$dir/base.out" 2>&1; code=$?
sz=$(png_size "$dir/base.png")
t "report --run of Adam alone: exit 0, values only, no hypergradient or threshold panels ($sz)" \
  '[ $code -eq 0 ] && grep -q "columns: value only (no level 2" "$dir/base.out" && [ "$sz" = 1200x910 ]'
t "report --run of the clip-off and clip-on runs: value, hypergradient and threshold panels, 3 rows of hyperparameters" \
  'grep -q "2 run(s); rows: loss and test error, alpha, beta1, beta2; columns: value, hypergradient, threshold" "$dir/report.out"'

# ---- one-line errors --------------------------------------------------------------------
one_line_error() {  # expected exit, then the command: stderr one line, nothing on stdout
    want=$1; shift
    "$@" >"$dir/err.out" 2>"$dir/err.err"; code=$?
    [ "$code" -eq "$want" ] && [ "$(wc -l <"$dir/err.err")" -eq 1 ] && [ ! -s "$dir/err.out" ] &&
        ! grep -q Traceback "$dir/err.err"
}
t "report --run missing.h5: one line, exit 1" 'one_line_error 1 "$REPORT" --run "$dir/missing.h5"'
t "report --run a damaged file: one line, exit 1" 'echo junk >"$dir/junk.h5" && one_line_error 1 "$REPORT" --run "$dir/junk.h5"'
t "report of a folder that is not a sweep: one line, exit 1" 'one_line_error 1 "$REPORT" "$dir/data"'
t "report of a missing folder: one line, exit 1" 'one_line_error 1 "$REPORT" "$dir/nothing"'
t "report with an unknown option: one line, exit 2" 'one_line_error 2 "$REPORT" --bogus'
t "sweep --data of a missing folder: one line, exit 2" \
  'one_line_error 2 "$SWEEP" --table 2 --data "$dir/nothing" --out "$dir/x"'
t "sweep with an unknown table: one line, exit 2" 'one_line_error 2 "$SWEEP" --table 9 --data "$dir/data" --dry-run'

out=$dir/out/small
# ---- resuming ---------------------------------------------------------------------------
touch "$dir/stamp"
sleep 1
sweep >"$dir/sweep2.out" 2>&1; code=$?
t "sweep again: exit 0, every cell skipped (got $code)" \
  '[ $code -eq 0 ] && grep -q "^sweep: 0 run, 10 skipped (complete), 0 failed" "$dir/sweep2.out"'
t "sweep again: a skip line per cell" '[ "$(grep -c "\] skip " "$dir/sweep2.out")" -eq 10 ]'
t "sweep again: no metrics file rewritten" '[ -z "$(find "$out" -name "*.h5" -newer "$dir/stamp")" ]'

rm "$out/adam_sgd_a1e-3_clipon_t1.done"
sweep >"$dir/sweep3.out" 2>&1; code=$?
t "no marker but complete metrics: skipped (exit $code)" \
  'grep -q "^sweep: 0 run, 10 skipped" "$dir/sweep3.out"'
t "no marker but complete metrics: marker written from the metrics" \
  'grep -q "^source=metrics$" "$out/adam_sgd_a1e-3_clipon_t1.done"'

rm "$out/adam_sgd_a1e-2_clipoff_t2.done" "$out/adam_sgd_a1e-2_clipoff_t2.metrics.h5"
sweep >"$dir/sweep4.out" 2>&1; code=$?
sed 's/^/# /' "$dir/sweep4.out" | grep -v '\] skip '
t "a missing cell: only it runs again (exit $code)" \
  '[ $code -eq 0 ] && grep -q "^sweep: 1 run, 9 skipped" "$dir/sweep4.out" &&
   grep -q "\] run adam_sgd_a1e-2_clipoff_t2:" "$dir/sweep4.out"'
t "a missing cell: its metrics are back" '[ -s "$out/adam_sgd_a1e-2_clipoff_t2.metrics.h5" ]'

# an attempt that died before its first checkpoint left a partial metrics file: the sweep
# runs the cell from scratch, replacing that file (hyperclip refuses it without --overwrite)
c=$out/adam_sgd_a1e-2_clipoff_t2
rm -f "$c.done" "$c.metrics.h5" "$c.ckpt.h5"
"$HYPERCLIP" train --data "$dir/data" --stack 'adam / sgd(alpha=1e-2, clip=off)' --max-steps 1 \
    --metrics "$c.metrics.h5" --quiet >/dev/null 2>&1
sweep >"$dir/sweep5.out" 2>&1; code=$?
sed 's/^/# /' "$dir/sweep5.out" | grep -v '\] skip '
t "a partial record without a checkpoint: the cell runs from scratch over it (exit $code)" \
  '[ $code -eq 0 ] && grep -q "^sweep: 1 run, 9 skipped" "$dir/sweep5.out" &&
   "$H5DUMP" -H -d /epochs/test_error "$c.metrics.h5" | grep -q "SIMPLE { ( 2 )"'

# ---- the Slurm hand-off (no Slurm needed) -----------------------------------------------
# --slurm --dry-run lists the pending cells as jobs/sweep.sbatch array indices and the
# grid it passes that script; the script's own --print-grid must name the same cells.
if [ -f "$srcdir/jobs/sweep.sbatch" ] && command -v bash >/dev/null; then
    rm "$out/adam_sgd_a1e-3_clipoff_t2.done" "$out/adam_sgd_a1e-3_clipoff_t2.metrics.h5" \
       "$out/adam_sgd_a1e-2_clipon_t1.done" "$out/adam_sgd_a1e-2_clipon_t1.metrics.h5"
    sweep --slurm --dry-run --time 1:30:00 --signal-lead 300 >"$dir/slurm.out" 2>&1
    sed 's/^/# /' "$dir/slurm.out" | grep 'slurm:'
    line=$(grep '^slurm: .*jobs/sweep.sbatch$' "$dir/slurm.out")
    envs=${line#slurm: }
    envs=${envs%% /*jobs/submit *}
    (eval "export $envs" && bash "$srcdir/jobs/sweep.sbatch" --print-grid) >"$dir/grid.txt" 2>&1
    tasks=$(sed -n 's/^slurm: array task \([0-9]*\) = \(.*\)$/\1 \2/p' "$dir/slurm.out")
    same=$(echo "$tasks" | while read -r k name; do
        [ "$(awk -v k="$k" '$1 == k { print $2 }' "$dir/grid.txt")" = "$name" ] && echo "$k"; done | wc -l)
    t "slurm hand-off: the 2 pending cells only, as --array=3-4 of jobs/sweep.sbatch" \
      'echo "$line" | grep -q -- " --array=3-4 "'
    t "slurm hand-off: the time limit and the signal lead time go to sbatch" \
      'echo "$line" | grep -q -- " --time=1:30:00 --signal=B:USR1@300 "'
    HC_SITE=$dir/no-site.conf sweep --slurm --dry-run >"$dir/slurm2.out" 2>&1; code=$?
    t "slurm hand-off without --time: refused, exit 2 (got $code), one line" \
      '[ $code -eq 2 ] && [ "$(grep -c . "$dir/slurm2.out")" -eq 1 ] && grep -q "needs --time" "$dir/slurm2.out"'
    printf 'HC_PARTITION=p\nHC_TIME=0:10:00\n' > "$dir/site.conf"
    HC_SITE=$dir/site.conf sweep --slurm --sbatch "$srcdir/jobs/submit --dry-run" >"$dir/slurm3.out" 2>&1; code=$?
    t "slurm hand-off through jobs/submit: the site file's partition and time limit reach sbatch (exit $code)" \
      '[ $code -eq 0 ] && grep -q "^sbatch --partition=p --time=0:10:00 .*--array=3-4 .*jobs/sweep.sbatch" "$dir/slurm3.out"'
    t "slurm hand-off: jobs/sweep.sbatch --print-grid names the same cells at those indices ($same of 2)" \
      '[ "$(echo "$tasks" | wc -l)" -eq 2 ] && [ "$same" -eq 2 ]'
    t "slurm hand-off: the dry run submitted nothing, so the cells still run locally" \
      'sweep >/dev/null 2>&1 && [ -s "$out/adam_sgd_a1e-2_clipon_t1.metrics.h5" ]'
fi

# ---- interrupted and resumed ------------------------------------------------------------
# One long cell (many small steps); SIGTERM to the sweep once its first epoch is recorded:
# the sweep asks hyperclip to checkpoint (SIGUSR1), exits 75, and the same command resumes.
"$TESTBIN/gen_data" "$dir/big" --train 4096 --test 128 --rows 8 --cols 8 >/dev/null
long() {
    "$SWEEP" --primary sgd --alphas 1e-2 --clip on --trials 1 --epochs 60 --no-baseline \
        --ranks 1 --data "$dir/big" --out "$dir/out" --name long --hyperclip "$HYPERCLIP" \
        --train-args "--batch 16"
}
# (exec: $! must be the sweep itself, not a subshell of this script)
(exec "$SWEEP" --primary sgd --alphas 1e-2 --clip on --trials 1 --epochs 60 --no-baseline \
    --ranks 1 --data "$dir/big" --out "$dir/out" --name long --hyperclip "$HYPERCLIP" \
    --train-args "--batch 16") >"$dir/long1.out" 2>&1 &
pid=$!
m=$dir/out/long/sgd_sgd_a1e-2_clipon_t1.metrics.h5
n=0
until [ -s "$m" ] || [ $n -ge 600 ]; do sleep 0.1; n=$((n + 1)); done
kill -TERM $pid
wait $pid; code=$?
sed 's/^/# /' "$dir/long1.out"
t "interrupted sweep: exit 75 (got $code)" '[ $code -eq 75 ]'
t "interrupted sweep: the cell's checkpoint is kept" '[ -s "$dir/out/long/sgd_sgd_a1e-2_clipon_t1.ckpt.h5" ]'
t "interrupted sweep: no done marker" '[ ! -e "$dir/out/long/sgd_sgd_a1e-2_clipon_t1.done" ]'
long >"$dir/long2.out" 2>&1; code=$?
sed 's/^/# /' "$dir/long2.out"
t "same command again: resumes the cell and completes it (exit $code)" \
  '[ $code -eq 0 ] && grep -q "\] resume sgd_sgd_a1e-2_clipon_t1:.* done" "$dir/long2.out"'
t "same command again: hyperclip resumed from the checkpoint" \
  'grep -q "^resumed from " "$dir/out/long/log/sgd_sgd_a1e-2_clipon_t1.log"'
t "same command again: all 60 epochs recorded once" \
  '"$H5DUMP" -H -d /epochs/test_error "$m" | grep -q "SIMPLE { ( 60 )"'

# ---- a paper table, dry run -------------------------------------------------------------
"$SWEEP" --table 2 --dry-run --data "$dir/data" --out "$dir/paper" --hyperclip "$HYPERCLIP" \
    >"$dir/dry.out" 2>&1; code=$?
t "table 2 dry run: exit 0 (got $code)" '[ $code -eq 0 ]'
t "table 2 dry run: 63 cells (10 alphas x 2 clips x 3 trials + 3 baselines)" \
  '[ "$(grep -c "^\[table2 [0-9]*/63\] run " "$dir/dry.out")" -eq 63 ]'
t "table 2 dry run: 5 epochs, resume from the cell's checkpoint" \
  'grep "adam_sgd_a5e-3_clipoff_t3:" "$dir/dry.out" | grep -q -- "--epochs 5 --seed 3 .*--resume-if-exists [^ ]*/table2/adam_sgd_a5e-3_clipoff_t3.ckpt.h5"'
t "table 2 dry run: writes nothing" '[ ! -e "$dir/paper" ]'
t "table 2 dry run: says how many cells would run" 'grep -q "^dry run: 63 cell(s) would run, 0 complete" "$dir/dry.out"'
# ---- a home matplotlib cannot write to (batch jobs, service users) ----------------------
# was: a warning on stderr on every run ("Matplotlib created a temporary config/cache
# directory ..."); now a private folder, removed at exit. HOME=/dev/null cannot hold a
# folder even for root.
mkdir -p "$dir/tmp"
HOME=/dev/null XDG_CONFIG_HOME= MPLCONFIGDIR= TMPDIR="$dir/tmp" "$REPORT" --help >"$dir/home.out" 2>"$dir/home.err"; code=$?
t "report with an unwritable home: exit 0 (got $code), nothing on stderr, no folder left" \
  '[ $code -eq 0 ] && [ ! -s "$dir/home.err" ] && [ -z "$(ls -A "$dir/tmp")" ]'
echo "1..$i"
