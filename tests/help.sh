#!/bin/bash
# Help everywhere: every command, subcommand, tool and job script answers -h and --help
# with its usage on stdout, exit 0, and does nothing else (no build, no run, no file
# written: each runs in an empty folder, and the tree's check.log, main-metrics.h5 and
# runs/ stay as they were). tools/check refuses a second copy in the same tree.
set -u
: "${HYPERCLIP:=./hyperclip}" "${TESTBIN:=tests}" "${srcdir:=.}" "${MPIRUN:=mpirun}"
src=$(cd "$srcdir" && pwd)
BENCH=$TESTBIN/../tools/bench
dir=$(mktemp -d)
holder=""
cleanup() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
i=0
ok()     { i=$((i + 1)); echo "ok $i - $*"; }
not_ok() { i=$((i + 1)); echo "not ok $i - $*"; }

# What a command that did more than print its usage would leave in the tree.
state() {
    local f
    for f in check.log main-metrics.h5 runs hyperclip-*.out; do
        [ -e "$src/$f" ] && stat -c '%n %Y %s' "$src/$f"
    done
}
before=$(state)

# help NAME COMMAND... : -h and --help (added last) each print a usage, exit 0, within 20 s
# (the full suite, a build or a training run would take longer), write nothing on stderr
# and nothing in the folder they run in.
help() {
    local name=$1 flag code work
    shift
    for flag in -h --help; do
        work=$dir/work$i
        mkdir -p "$work"
        (cd "$work" && timeout 20 "$@" "$flag" >"$dir/out" 2>"$dir/err" </dev/null); code=$?
        if [ $code -eq 0 ] && grep -qi "usage" "$dir/out" && [ ! -s "$dir/err" ] &&
           [ -z "$(ls -A "$work")" ]; then
            ok "$name $flag: usage, exit 0, nothing else ($(wc -l < "$dir/out") lines)"
        else
            not_ok "$name $flag: exit $code, usage $(grep -ci usage "$dir/out") lines," \
                   "stderr $(wc -c < "$dir/err") bytes, files left: $(ls -A "$work" | head -3 | tr '\n' ' ')"
            head -5 "$dir/err" | sed 's/^/# /'
        fi
        rm -rf "$work"
    done
}

help "hyperclip"                 "$HYPERCLIP"
help "hyperclip train"           "$HYPERCLIP" train
help "hyperclip train (bad option first)" "$HYPERCLIP" train --bogus 1
help "hyperclip eval"            "$HYPERCLIP" eval
help "hyperclip info"            "$HYPERCLIP" info
help "tools/quickstart"          "$src/tools/quickstart"
help "tools/quickstart (train options first)" "$src/tools/quickstart" --epochs 1
help "tools/check"               "$src/tools/check"
help "tools/setup"               "$src/tools/setup"
help "tools/build"               "$src/tools/build"
help "tools/sweep"               "$src/tools/sweep"
help "tools/report"              "$src/tools/report"
help "tools/fingerprint"         "$src/tools/fingerprint"
help "tools/fetch-data"          "$src/tools/fetch-data"
help "tools/check-sanitizers"    "$src/tools/check-sanitizers"
help "tools/fuzz"                "$src/tools/fuzz"
help "tools/bench"               "$BENCH"
help "tools/fingerprint"         "$src/tools/fingerprint"
help "tools/scaling"             "$src/tools/scaling"
help "tools/device-scaling"      "$src/tools/device-scaling"
help "jobs/train.sbatch"         "$src/jobs/train.sbatch"
help "jobs/sweep.sbatch"         "$src/jobs/sweep.sbatch"
help "jobs/submit"               "$src/jobs/submit"

# Under a launcher: the usage once, not once per rank, and no MPI start-up needed.
"$MPIRUN" -np 2 "$HYPERCLIP" train --help >"$dir/out" 2>&1; code=$?
n=$(grep -c "^usage: mpirun -np N hyperclip train" "$dir/out")
if [ $code -eq 0 ] && [ "$n" -eq 1 ]; then ok "mpirun -np 2 hyperclip train --help: the usage once, exit 0"
else not_ok "mpirun -np 2 hyperclip train --help: exit $code, usage printed $n times"; sed 's/^/# /' "$dir/out" | head -5; fi

after=$(state)
if [ "$before" = "$after" ]; then ok "the tree's check.log, main-metrics.h5, runs/ and job logs are untouched"
else not_ok "the tree changed:"; diff <(echo "$before") <(echo "$after") | sed 's/^/# /'; fi

# ---- tools/check: one at a time per tree --------------------------------------------------
# Hold its lock (the script file itself) as a running tools/check does. When this test runs
# under tools/check, the lock is held already and the second copy must be refused the same.
( exec 9<"$src/tools/check"; flock -n 9; exec sleep 60 ) &
holder=$!
sleep 0.5
start=$SECONDS
timeout 60 "$src/tools/check" >"$dir/out" 2>"$dir/err"; code=$?
if [ $code -eq 1 ] && grep -q "another tools/check is running in this tree" "$dir/err" &&
   [ "$(grep -c . "$dir/err")" -eq 1 ] && [ $((SECONDS - start)) -lt 10 ]; then
    ok "a second tools/check in the same tree is refused at once: $(cat "$dir/err")"
else
    not_ok "a second tools/check: exit $code after $((SECONDS - start)) s"; sed 's/^/# /' "$dir/err" | head -5
fi
after=$(state)
if [ "$before" = "$after" ]; then ok "the refused tools/check touched nothing (check.log as it was)"
else not_ok "the refused tools/check changed the tree"; fi
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=""
echo "1..$i"
