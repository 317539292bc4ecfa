#!/bin/bash
# The sharded update (issue 11, --sharded-update): after a reduce-scatter of the gradient
# each rank updates its part of the weights (parts cut through the tensors), the ranks sum
# their hypergradient shares in rank order and allgather the weights. It agrees with the
# replicated update to rounding; the checkpoint holds every rank's part of the optimizer
# state (gathered to rank 0), so a stopped run resumes bitwise, also on another rank count
# and without sharding; auto takes it for large models only; "on" with --reproducible or
# --bucket is a usage error.
set -u
. "$(dirname "$0")/tap_lib.sh"
small_sets

run() {  # name, ranks, data, model, steps, extra options...
    local name=$1 p=$2 data=$3 model=$4 steps=$5; shift 5
    "$MPIRUN" -np "$p" "$HYPERCLIP" train --data "$dir/$data" --model "$model" \
        --stack 'adam / sgd(alpha=1e-3, clip=on)' --batch 32 --epochs 20 --max-steps "$steps" \
        --seed 5 --progress never --metrics "$dir/$name.h5" --checkpoint "$dir/$name-ck.h5" "$@" \
        > "$dir/$name.out" 2>&1
}
same() {  # a, b: metrics and final state bitwise equal
    "$H5DIFF" "$dir/$1.h5" "$dir/$2.h5" /steps /steps >/dev/null 2>&1 &&
    "$H5DIFF" "$dir/$1-ck.h5" "$dir/$2-ck.h5" /model /model >/dev/null 2>&1 &&
    "$H5DIFF" "$dir/$1-ck.h5" "$dir/$2-ck.h5" /state /state >/dev/null 2>&1
}
close() {  # a, b, object, relative tolerance
    "$H5DIFF" --relative="$4" "$dir/$1" "$dir/$2" "$3" "$3" >/dev/null 2>&1
}
near() {  # a, b, object, absolute tolerance
    "$H5DIFF" --delta="$4" "$dir/$1" "$dir/$2" "$3" "$3" >/dev/null 2>&1
}
# /model's weights within a tolerance: each tensor (the group's digest attribute, exact
# text, differs with any weight)
weights() {  # near|close, a, b, tolerance
    local ds
    for ds in /model/fc1/weight /model/fc1/bias /model/fc2/weight /model/fc2/bias; do
        "$1" "$2" "$3" $ds "$4" || return 1
    done
}
banner() { grep -c "parameters; sharded update$" "$dir/$1.out"; }

# the MLP of 12x12 inputs has 18,570 weights: 3 parts of 6,176 / 6,192 / 6,202 values
t "MLP on 3 ranks, --sharded-update on: 40 steps (an epoch is 10), the start line says so" \
  'run on3 3 mnist mlp 40 --sharded-update on && [ "$(banner on3)" -eq 1 ]' "$dir/on3.out"
t "MLP on 3 ranks, --sharded-update off: 40 steps, no sharded update" \
  'run off3 3 mnist mlp 40 --sharded-update off && [ "$(banner off3)" -eq 0 ]' "$dir/off3.out"
t "MLP on 1 rank: 40 steps" 'run one 1 mnist mlp 40' "$dir/one.out"
for obj in /steps/loss /steps/level1/alpha/value /steps/level1/beta1/value \
           /steps/level1/beta2/value /steps/level2/alpha/value; do
    t "metrics $obj: sharded on 3 ranks within 1e-5 rel of 1 rank and of the replicated update" \
      'close one.h5 on3.h5 $obj 1e-5 && close off3.h5 on3.h5 $obj 1e-5'
done
# a hypergradient is a sum of cancelling terms (1 and 3 ranks differ by 2.5e-5 rel): absolute
for h in alpha beta1 beta2; do
    t "metrics /steps/level1/$h/grad: sharded within 1e-4 of the replicated update's" \
      'near off3.h5 on3.h5 /steps/level1/$h/grad 1e-4'
done
t "final weights: sharded within 1e-6 (a few float ulps) of the replicated update's on 3 ranks" \
  'weights near off3-ck.h5 on3-ck.h5 1e-6'
# a part not gathered would hold its initial m = 0, v = 1e-8 and D = 0 (almost all of
# them are above 1e-6 by step 40)
for a in state0 state1 D0 D1 D2; do
    t "checkpoint /state/level1/$a: every rank's part, within 1e-7 of the replicated run's" \
      'near off3-ck.h5 on3-ck.h5 /state/level1/$a 1e-7'
done

# stopped at step 23 (inside epoch 3), resumed to 40: bitwise the run that never stopped
t "3 ranks sharded: 23 steps, then --resume to 40" \
  'run part3 3 mnist mlp 23 --sharded-update on && run part3 3 mnist mlp 40 --sharded-update on --resume "$dir/part3-ck.h5"' "$dir/part3.out"
t "3 ranks sharded: the resumed run's metrics, weights and state bitwise equal to the straight run's" \
  'same part3 on3'
# the checkpoint is the same layout whatever the update: any rank count, either update
cp "$dir/part3-ck.h5" "$dir/part2-ck.h5"
cp "$dir/part3-ck.h5" "$dir/part1-ck.h5"
t "the sharded 3-rank checkpoint resumes on 2 ranks (sharded) to step 40" \
  'run part2 2 mnist mlp 40 --sharded-update on --resume "$dir/part2-ck.h5" --new-metrics --overwrite' "$dir/part2.out"
t "the sharded 3-rank checkpoint resumes on 1 rank to step 40" \
  'run part1 1 mnist mlp 40 --resume "$dir/part1-ck.h5" --new-metrics --overwrite' "$dir/part1.out"
t "both resumed runs end within 1e-5 rel of the straight run (loss, weights)" \
  'weights close on3-ck.h5 part2-ck.h5 1e-4 && weights close on3-ck.h5 part1-ck.h5 1e-4 && close on3.h5 part2.h5 /steps/loss 1e-5 && close on3.h5 part1.h5 /steps/loss 1e-5'

# auto: the CNN's 1.6 M weights are sharded on more than one rank, the MLP's are not
t "auto: the CNN on 2 ranks takes the sharded update" \
  'run cnn2 2 cifar cnn 3 && [ "$(banner cnn2)" -eq 1 ]' "$dir/cnn2.out"
t "auto: the CNN on 1 rank does not (nothing to share)" \
  'run cnn1 1 cifar cnn 3 && [ "$(banner cnn1)" -eq 0 ]' "$dir/cnn1.out"
t "auto: the MLP on 3 ranks does not (18,570 weights)" \
  'run auto3 3 mnist mlp 3 && [ "$(banner auto3)" -eq 0 ]' "$dir/auto3.out"
t "--sharded-update off: the CNN on 2 ranks does not" \
  'run cnnoff 2 cifar cnn 3 --sharded-update off && [ "$(banner cnnoff)" -eq 0 ]' "$dir/cnnoff.out"
t "the CNN on 2 ranks, sharded or not, within 1e-5 rel of 1 rank (loss, 3 steps)" \
  'close cnn1.h5 cnn2.h5 /steps/loss 1e-5 && close cnn1.h5 cnnoff.h5 /steps/loss 1e-5'

refused "--sharded-update sometimes" 2 "--sharded-update expects auto, on or off" \
    train --data "$dir/mnist" --sharded-update sometimes
refused "--sharded-update on --reproducible 4" 2 "--sharded-update on cannot be combined with --reproducible" \
    train --data "$dir/mnist" --sharded-update on --reproducible 4
refused "--sharded-update on --bucket 4096" 2 "--sharded-update on cannot be combined with --bucket" \
    train --data "$dir/mnist" --sharded-update on --bucket 4096
echo "1..$i"
