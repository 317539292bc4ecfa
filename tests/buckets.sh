#!/bin/bash
# The step's communication (issue 11): gradients travel as MPI_SUM allreduces of the
# build's real type, in buckets posted during the backward (--bucket N values each), or in
# one tuned blocking allreduce when one bucket holds them all. How the gradient is cut
# changes no bit on 2 ranks (a sum of two is the same in any order), for the MLP and the
# CNN, over an epoch boundary with a clipped stack; on 3 ranks every cut agrees with one
# rank to 1e-5 (summation order); and the level-1 hypergradients, derived from the summed
# gradient, follow the same rules. A bad --bucket is a usage error.
set -u
. "$(dirname "$0")/tap_lib.sh"
small_sets

run() {  # name, ranks, data, model, bucket, steps
    "$MPIRUN" -np "$2" "$HYPERCLIP" train --data "$dir/$3" --model "$4" --bucket "$5" \
        --stack 'adam / sgd(alpha=1e-3, clip=on)' --batch 32 --epochs 20 --max-steps "$6" \
        --seed 5 --quiet --metrics "$dir/$1.h5" --checkpoint "$dir/$1-ck.h5" > "$dir/$1.out" 2>&1
}
same() {  # a, b: metrics and final state bitwise equal
    "$H5DIFF" "$dir/$1.h5" "$dir/$2.h5" /steps /steps >/dev/null 2>&1 &&
    "$H5DIFF" "$dir/$1-ck.h5" "$dir/$2-ck.h5" /model /model >/dev/null 2>&1 &&
    "$H5DIFF" "$dir/$1-ck.h5" "$dir/$2-ck.h5" /state /state >/dev/null 2>&1
}
# the MLP of 12x12 inputs has 18,570 parameters: 700 values a bucket make 27 buckets
# (the most a step allows is 64, so 100 is raised to 291 values), 1e9 makes one bucket
for b in 100 700 1000000000; do
    t "MLP on 2 ranks, --bucket $b: trains 40 steps (an epoch is 10)" 'run mlp2-$b 2 mnist mlp $b 40' "$dir/mlp2-$b.out"
done
t "MLP on 2 ranks: 27 buckets and 64 buckets give the same bits as one bucket (metrics, weights, state)" \
  'same mlp2-700 mlp2-1000000000 && same mlp2-100 mlp2-1000000000'
t "MLP on 1 rank trains 40 steps" 'run mlp1 1 mnist mlp 700 40' "$dir/mlp1.out"
for b in 700 1000000000; do
    t "MLP on 3 ranks, --bucket $b: trains 40 steps" 'run mlp3-$b 3 mnist mlp $b 40' "$dir/mlp3-$b.out"
    for obj in /steps/loss /steps/level1/alpha/value /steps/level1/beta1/value /steps/level2/alpha/value; do
        t "MLP on 3 ranks, --bucket $b: $obj within 1e-5 of 1 rank" \
          '"$H5DIFF" --relative=1e-5 "$dir/mlp1.h5" "$dir/mlp3-$b.h5" $obj $obj >/dev/null 2>&1'
    done
done
# the CNN on 3x32x32 has 1.6 M parameters: 100,000 a bucket make 17 buckets
for b in 100000 1000000000; do
    t "CNN on 2 ranks, --bucket $b: trains 8 steps (an epoch is 5)" 'run cnn2-$b 2 cifar cnn $b 8' "$dir/cnn2-$b.out"
done
t "CNN on 2 ranks: 17 buckets give the same bits as one bucket" 'same cnn2-100000 cnn2-1000000000'
for bad in 0 -5 x; do
    "$HYPERCLIP" train --data "$dir/mnist" --bucket "$bad" > "$dir/bad.out" 2>&1; code=$?
    t "--bucket $bad: exit 2 with one message naming --bucket (got $code)" \
      '[ $code -eq 2 ] && [ "$(grep -c "hyperclip: error:.*--bucket" "$dir/bad.out")" -eq 1 ]' "$dir/bad.out"
done
echo "1..$i"
