#!/bin/bash
# --reproducible V (issue 17): the same bits on any number of ranks up to V. The MLP and
# the CNN with a clipped stack, over an epoch boundary, on 1, 2, 3 and 4 ranks: metrics,
# weights, optimizer state and test losses bitwise equal (h5diff, no tolerance); a run
# checkpointed on P ranks and resumed on Q continues bit for bit; more ranks than V is
# one clear usage error. (tests/multinode.sh checks the same across emulated nodes.)
set -u
. "$(dirname "$0")/tap_lib.sh"
small_sets
STACK='adam / sgd(alpha=1e-3, clip=on)'

run() {  # name, ranks, data, model, steps, extra options...
    local name=$1 p=$2 data=$3 model=$4 steps=$5
    shift 5
    "$MPIRUN" -np "$p" "$HYPERCLIP" train --data "$dir/$data" --model "$model" --stack "$STACK" \
        --batch 32 --epochs 20 --max-steps "$steps" --seed 5 --reproducible 12 --quiet \
        --metrics "$dir/$name.h5" --checkpoint "$dir/$name-ck.h5" "$@" > "$dir/$name.out" 2>&1
}
same() {  # a, b: every step, the epochs' losses and errors, the weights and the state
    local o
    for o in /steps /epochs/train_loss /epochs/test_loss /epochs/test_error; do
        "$H5DIFF" "$dir/$1.h5" "$dir/$2.h5" $o $o >/dev/null 2>&1 || return 1
    done
    "$H5DIFF" "$dir/$1-ck.h5" "$dir/$2-ck.h5" /model /model >/dev/null 2>&1 &&
    "$H5DIFF" "$dir/$1-ck.h5" "$dir/$2-ck.h5" /state /state >/dev/null 2>&1
}

# every rank count against one rank: name, data, model, steps
ranks_agree() {
    local p
    for p in 1 2 3 4; do
        t "$1 --reproducible 12 on $p rank(s): $4 steps over an epoch boundary" "run $1$p $p $2 $3 $4" "$dir/$1$p.out"
    done
    for p in 2 3 4; do
        t "$1: $p ranks bitwise equal to 1 rank (metrics, test losses, weights, state)" "same ${1}1 $1$p"
    done
}
# MLP: 300 samples in batches of 32 make epochs of 10 steps (the last one of 12)
ranks_agree mlp mnist mlp 25
# without --reproducible the ranks differ in the last bits: the test above could fail
"$MPIRUN" -np 3 "$HYPERCLIP" train --data "$dir/mnist" --stack "$STACK" --batch 32 --epochs 20 \
    --max-steps 25 --seed 5 --quiet --metrics "$dir/plain3.h5" > "$dir/plain3.out" 2>&1
"$MPIRUN" -np 1 "$HYPERCLIP" train --data "$dir/mnist" --stack "$STACK" --batch 32 --epochs 20 \
    --max-steps 25 --seed 5 --quiet --metrics "$dir/plain1.h5" > "$dir/plain1.out" 2>&1
t "control: without --reproducible, 3 ranks and 1 rank differ in some bit (summation order)" \
  '! "$H5DIFF" "$dir/plain1.h5" "$dir/plain3.h5" /steps /steps >/dev/null 2>&1'

# CNN: 150 samples in batches of 32: epochs of 5 steps
ranks_agree cnn cifar cnn 7

# P -> Q: 12 steps on 4 ranks, then resumed on 3 to step 19, then on 2 to step 25, each
# time with --resume alone (the run record brings back --reproducible 12 and the rest)
run part 4 mnist mlp 12
t "resume: 4 ranks stopped at step 12" '[ -s "$dir/part-ck.h5" ]' "$dir/part.out"
"$MPIRUN" -np 3 "$HYPERCLIP" train --resume "$dir/part-ck.h5" --max-steps 19 --quiet \
    > "$dir/r3.out" 2>&1; code=$?
t "resume on 3 ranks to step 19 (exit $code)" '[ $code -eq 0 ]' "$dir/r3.out"
"$MPIRUN" -np 2 "$HYPERCLIP" train --resume "$dir/part-ck.h5" --max-steps 25 --quiet \
    > "$dir/r2.out" 2>&1; code=$?
t "resume on 2 ranks to step 25 (exit $code)" '[ $code -eq 0 ]' "$dir/r2.out"
t "4 -> 3 -> 2 ranks: bitwise equal to the uninterrupted 1-rank run" 'same mlp1 part'
"$MPIRUN" -np 2 "$HYPERCLIP" train --resume "$dir/part-ck.h5" --reproducible 6 --max-steps 30 \
    --quiet > "$dir/r6.out" 2>&1; code=$?
t "resume with another --reproducible: exit non-zero (got $code), the message names both" \
  '[ $code -ne 0 ] && grep "hyperclip: error:" "$dir/r6.out" | grep -q "reproducible" && grep "hyperclip: error:" "$dir/r6.out" | grep -q 12' "$dir/r6.out"

# more ranks than virtual shards
"$MPIRUN" -np 3 "$HYPERCLIP" train --data "$dir/mnist" --reproducible 2 --max-steps 2 --quiet \
    > "$dir/many.out" 2>&1; code=$?
t "--reproducible 2 on 3 ranks: exit 2 (got $code), one message saying why" \
  '[ $code -eq 2 ] && [ "$(grep -c "hyperclip: error:.*--reproducible 2 cannot run on 3 ranks" "$dir/many.out")" -eq 1 ]' "$dir/many.out"
echo "1..$i"
