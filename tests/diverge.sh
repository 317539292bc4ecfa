#!/bin/sh
# Divergence is an outcome, not a crash: a saturating run goes on and scores like the
# papers' failed rows; a non-finite loss stops early with exit code 3, metrics saved.
set -u
: "${TESTBIN:=tests}" "${HYPERCLIP:=./hyperclip}" "${H5DUMP:=h5dump}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$TESTBIN/gen_data" "$dir/data" --train 256 --test 200 --rows 8 --cols 8 >/dev/null
i=0
t() { i=$((i + 1)); if eval "$2"; then echo "ok $i - $1"; else echo "not ok $i - $1"; fi; }

"$HYPERCLIP" train --data "$dir/data" --batch 32 --epochs 3 --stack 'rmsprop / sgd(alpha=3e38)' \
    --metrics "$dir/nan.h5" >"$dir/nan.out" 2>&1; code=$?
sed 's/^/# /' "$dir/nan.out"
t "non-finite loss: exit code 3 (got $code)" '[ $code -eq 3 ]'
t "non-finite loss: says it diverged and at which step" 'grep -q "diverged: the loss became non-finite at step" "$dir/nan.out"'
t "non-finite loss: names the first non-finite hyperparameter" 'grep -q "first non-finite hyperparameter: level" "$dir/nan.out"'
err=$(sed -n 's/^final test error: \([0-9.]*\)%.*/\1/p' "$dir/nan.out")
t "non-finite loss: test error counted like PyTorch's argmax (${err}%, >= 50%)" '[ -n "$err" ] && [ "${err%.*}" -ge 50 ]'
steps=$(sed -n 's/.*at step \([0-9]*\).*/\1/p' "$dir/nan.out")
t "non-finite loss: metrics saved up to the step that diverged ($steps rows)" \
  '"$H5DUMP" -H -d /steps/loss "$dir/nan.h5" | grep -q "( $steps )"'
t "non-finite loss: the last recorded loss is NaN" \
  '"$H5DUMP" -d /steps/loss "$dir/nan.h5" | grep -qi "nan"'

"$HYPERCLIP" train --data "$dir/data" --batch 32 --epochs 2 --stack 'sgd(alpha=1e6)' >"$dir/sat.out" 2>&1; code=$?
err=$(sed -n 's/^final test error: \([0-9.]*\)%.*/\1/p' "$dir/sat.out")
t "saturated network: runs to the end, exit 0 (got $code)" '[ $code -eq 0 ] && grep -q "epoch   2/2" "$dir/sat.out"'
t "saturated network: scores like the papers' failed rows (${err}% >= 50%)" '[ -n "$err" ] && [ "${err%.*}" -ge 50 ]'
echo "1..$i"
