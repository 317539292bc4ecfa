#!/bin/bash
# Exact resume for every kind of level: stacks with Adam, AdaGrad, RMSProp above level 1,
# gdtuo's variants and per-tensor step sizes, stopped mid-epoch and resumed (1 and 2
# ranks): weights, every level's state (/state/level<k>: raw, clip, optimizer arrays and
# counters) and the metrics bitwise equal to the uninterrupted run.
set -u
: "${MPIRUN:=mpirun}" "${H5DIFF:=h5diff}" "${TESTBIN:=tests}" "${HYPERCLIP:=./hyperclip}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$TESTBIN/gen_data" "$dir/data" --train 400 --test 100 --rows 10 --cols 10 >/dev/null
i=0
t() { i=$((i + 1)); if eval "$2"; then echo "ok $i - $1"; else echo "not ok $i - $1"; [ -n "${3:-}" ] && sed 's/^/# /' "$3" | tail -n 8; fi; }
same() { "$H5DIFF" "$1" "$2" "$3" "$3" >/dev/null 2>&1; }   # exact comparison
stacks=('sgd(alpha=0.05) / adam(alpha=1e-3)'
        'adam / adam(alpha=1e-4) / sgd(alpha=1e-4)'
        'rmsprop(alpha=1e-3) / adagrad(alpha=1e-4) / sgd(alpha=1e-4)'
        'adam_baydin / sgd(alpha=1e-3)'
        'sgd(alpha=0.05, per_tensor=on) / sgd(alpha=1e-3)'
        'rmsprop_alpha / sgd(alpha=1e-4, per_tensor=on, clip=on) / rmsprop(alpha=1e-4)')
s=0
for stack in "${stacks[@]}"; do
    s=$((s + 1))
    for n in 1 2; do
        mp() { "$MPIRUN" -np $n "$HYPERCLIP" train --data "$dir/data" --batch 32 --epochs 2 --stack "$stack" --quiet "$@"; }
        f=$dir/s$s-$n
        mp --checkpoint "$f-full.h5" --metrics "$f-fullm.h5" > "$f-full.out" 2>&1
        mp --checkpoint "$f-part.h5" --metrics "$f-partm.h5" --max-steps 17 > "$f-part.out" 2>&1
        mp --checkpoint "$f-part.h5" --metrics "$f-partm.h5" --resume "$f-part.h5" > "$f-res.out" 2>&1
        t "$stack, $n rank(s): stopped at step 17 and resumed: weights and every level's state bitwise equal" \
          'same "$f-full.h5" "$f-part.h5" /model && same "$f-full.h5" "$f-part.h5" /state && grep -q "resumed from" "$f-res.out"' "$f-res.out"
        t "$stack, $n rank(s): metrics /steps continue exactly" 'same "$f-fullm.h5" "$f-partm.h5" /steps'
    done
done
# the state of a non-SGD level is in the checkpoint under its own names
h5ls -r "$dir/s2-1-full.h5" > "$dir/ls.out" 2>&1
t "adam at level 2: /state/level2 holds its raw alpha, beta1, beta2 and its m, v, D per hyperparameter below" \
  'grep -q "/state/level2/raw .*{3}" "$dir/ls.out" && grep -q "/state/level2/m .*{3}" "$dir/ls.out" && grep -q "/state/level2/v .*{3}" "$dir/ls.out" && grep -q "/state/level2/D_beta2 .*{3}" "$dir/ls.out"' "$dir/ls.out"
h5ls -r "$dir/s5-1-fullm.h5" > "$dir/lsm.out" 2>&1
t "per_tensor: one metrics column group per weight tensor (alpha.fc1.weight ... alpha.fc2.bias)" \
  'for x in fc1.weight fc1.bias fc2.weight fc2.bias; do grep -q "/steps/level1/alpha.$x/grad" "$dir/lsm.out" || exit 1; done' "$dir/lsm.out"
h5ls -r "$dir/s1-1-fullm.h5" > "$dir/lsa.out" 2>&1
t "adam at level 2: metrics columns /steps/level2/{alpha,beta1,beta2}/{value,grad,clipped,threshold}" \
  'for h in alpha beta1 beta2; do for q in value grad clipped threshold; do grep -q "/steps/level2/$h/$q " "$dir/lsa.out" || exit 1; done; done' "$dir/lsa.out"
echo "1..$i"
