#!/bin/sh
# The CNN end to end on generated CIFAR-10-format data (3x32x32, gzipped batch files):
# the same run on 1 and 2 ranks agrees to 1e-5 (rank-count invariance), the metrics
# record the model and the normalisation, and a 2-rank run stopped at a checkpoint and
# resumed is bitwise identical to one that never stopped.
set -u
: "${MPIRUN:=mpirun}" "${H5DIFF:=h5diff}" "${H5DUMP:=h5dump}" "${TESTBIN:=tests}" "${HYPERCLIP:=./hyperclip}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=0
pass() { i=$((i + 1)); echo "ok $i - $*"; }
fail() { i=$((i + 1)); echo "not ok $i - $*"; }

# 150 training samples, batch 32: every epoch ends with a step of 22
if "$TESTBIN/gen_cifar" "$dir/data" --train 150 --test 40 --seed 3 --gz >/dev/null; then
    pass "gen_cifar wrote a CIFAR-10-format folder"
else
    fail "gen_cifar failed"; echo "1..$i"; exit 1
fi

STACK='adam / sgd(alpha=1e-7)'
train() {  # ranks, output prefix, extra options...
    p=$1 out=$2; shift 2
    "$MPIRUN" -np "$p" "$HYPERCLIP" train --data "$dir/data" --model cnn --stack "$STACK" \
        --batch 32 --epochs 20 --seed 9 --quiet "$@" > "$out.out" 2>&1
}

for p in 1 2; do
    if train $p "$dir/m$p" --max-steps 60 --metrics "$dir/m$p.h5"; then
        pass "hyperclip train --model cnn on $p rank(s), 60 steps"
    else
        fail "hyperclip train --model cnn on $p rank(s)"; sed 's/^/# /' "$dir/m$p.out"
    fi
done

for obj in /steps/loss /steps/level1/alpha/value /steps/level1/beta1/value \
           /steps/level1/beta2/value /steps/level2/alpha/value /epochs/test_loss; do
    if out=$("$H5DIFF" --relative=1e-5 "$dir/m1.h5" "$dir/m2.h5" "$obj" "$obj" 2>&1); then
        pass "cnn metrics $obj: 2 ranks within 1e-5 rel of 1 rank"
    else
        fail "cnn metrics $obj: 2 ranks differ from 1 rank"; echo "$out" | head -5 | sed 's/^/# /'
    fi
done

# the loss falls: the CNN learns the generated classes
values() { "$H5DUMP" -d "$1" -y -w 0 "$dir/m1.h5" 2>/dev/null | sed -n '/DATA {/,/}/p' | tr -s ', ' '\n' | grep -E '^-?[0-9]'; }
first=$(values /steps/loss | head -1)
last=$(values /epochs/train_loss | tail -1)
if [ -n "$first" ] && [ -n "$last" ] && awk "BEGIN { exit !($last < $first) }"; then
    pass "the loss falls (first step $first, last epoch's mean $last)"
else
    fail "the loss does not fall (first step '$first', last epoch's mean '$last')"
fi

info=$("$HYPERCLIP" info "$dir/m1.h5" 2>&1)
if echo "$info" | grep -q 'model = cnn' && echo "$info" | grep -q 'dataset = cifar10' &&
   echo "$info" | grep -q 'normalization = train-stats mean='; then
    pass "metrics attributes: model cnn, dataset cifar10, train-stats normalisation"
else
    fail "metrics attributes"; echo "$info" | sed 's/^/# /' | head -20
fi

# --normalize authors: the paper's notebook constants, recorded in the metrics
if train 1 "$dir/auth" --max-steps 3 --normalize authors --metrics "$dir/auth.h5" &&
   "$HYPERCLIP" info "$dir/auth.h5" 2>&1 |
       grep -q 'normalization = authors mean=0.474/0.473/0.473 std=0.252/0.252/0.251'; then
    pass "--normalize authors: recorded in the metrics"
else
    fail "--normalize authors"; sed 's/^/# /' "$dir/auth.out"
fi

# checkpoint and resume on 2 ranks: stop at step 23 (inside epoch 5), resume to 40
if train 2 "$dir/full" --max-steps 40 --metrics "$dir/full.h5" --checkpoint "$dir/full_ck.h5" &&
   train 2 "$dir/part" --max-steps 23 --metrics "$dir/part.h5" --checkpoint "$dir/ck.h5" &&
   train 2 "$dir/rest" --max-steps 40 --metrics "$dir/part.h5" --checkpoint "$dir/ck.h5" \
       --resume "$dir/ck.h5"; then
    pass "2 ranks: 40 steps straight, and 23 steps then --resume to 40"
else
    fail "checkpoint/resume runs"; cat "$dir/full.out" "$dir/part.out" "$dir/rest.out" | sed 's/^/# /'
fi
for obj in /steps/loss /steps/level1/alpha/value /epochs/test_loss; do
    if out=$("$H5DIFF" "$dir/full.h5" "$dir/part.h5" "$obj" "$obj" 2>&1); then
        pass "resumed run's $obj bitwise equal to the uninterrupted run's"
    else
        fail "resumed run's $obj differs"; echo "$out" | head -5 | sed 's/^/# /'
    fi
done
if out=$("$H5DIFF" "$dir/full_ck.h5" "$dir/ck.h5" /model /model 2>&1); then
    pass "resumed run's final weights bitwise equal"
else
    fail "resumed run's final weights differ"; echo "$out" | head -5 | sed 's/^/# /'
fi
echo "1..$i"
