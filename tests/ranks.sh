#!/bin/sh
# Rank-count invariance through the MPI test program (1, 2 and 3 ranks inside one
# mpirun -np 3), then end to end through the hyperclip command and its metrics files.
set -u
: "${MPIRUN:=mpirun}" "${H5DIFF:=h5diff}" "${TESTBIN:=tests}" "${HYPERCLIP:=./hyperclip}"
out=$("$MPIRUN" -np 3 "$TESTBIN/test_ranks" 2>&1); status=$?
echo "$out" | grep -v '^1\.\.' | grep -E '^(not )?ok |^#' 
n=$(echo "$out" | grep -cE '^(not )?ok ')
n=$((n + 1))
if [ $status -eq 0 ] && [ $n -eq 100 ]; then echo "ok $n - test_ranks ran all its 99 points and exited 0"
else echo "not ok $n - test_ranks exited $status after $((n - 1)) points"; echo "$out" | tail -20 | sed 's/^/# /'; fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$TESTBIN/gen_data" "$dir/data" --train 300 --test 100 --rows 12 --cols 12 --gz >/dev/null
# a fixed initial state: the weights of a 1-step run with another seed
"$HYPERCLIP" train --data "$dir/data" --batch 32 --max-steps 1 --seed 77 --quiet --checkpoint "$dir/init.h5" >/dev/null 2>&1
run() {  # ranks, metrics file, seed
    "$MPIRUN" -np "$1" "$HYPERCLIP" train --data "$dir/data" --stack 'adam / sgd(alpha=1e-3, clip=on)' \
        --batch 32 --max-steps 300 --epochs 40 --seed "$3" --no-shuffle --init "$dir/init.h5" --quiet \
        --metrics "$2" > "$2.out" 2>&1
}
i=$n
for p in 1 2 3; do
    i=$((i + 1))
    if run $p "$dir/m$p.h5" 9; then echo "ok $i - hyperclip train --init --no-shuffle on $p ranks, 300 steps"
    else echo "not ok $i - hyperclip train on $p ranks"; sed 's/^/# /' "$dir/m$p.h5.out"; fi
done
i=$((i + 1))
run 1 "$dir/seed.h5" 10
if "$H5DIFF" "$dir/m1.h5" "$dir/seed.h5" /steps/loss /steps/loss >/dev/null 2>&1; then
    echo "ok $i - with --init and --no-shuffle the seed changes nothing: the run starts from the file"
else echo "not ok $i - --init did not fix the starting point"; fi
for p in 2 3; do
    for obj in /steps/loss /steps/level1/alpha/value /steps/level1/beta1/value /steps/level1/beta2/value /steps/level2/alpha/value; do
        i=$((i + 1))
        if out=$("$H5DIFF" --relative=1e-5 "$dir/m1.h5" "$dir/m$p.h5" "$obj" "$obj" 2>&1); then
            echo "ok $i - metrics $obj: $p ranks within 1e-5 rel of 1 rank over 300 steps"
        else
            echo "not ok $i - metrics $obj: $p ranks differ from 1 rank"; echo "$out" | head -5 | sed 's/^/# /'
        fi
    done
done
echo "1..$i"
