#!/bin/sh
# Every bad option and bad stack string gets one clear message and its exit code, and
# overwrites nothing. A table: expected exit code | expected text in stderr | arguments.
set -u
: "${TESTBIN:=tests}" "${HYPERCLIP:=./hyperclip}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$TESTBIN/gen_data" "$dir/data" --train 64 --test 32 --rows 6 --cols 6 >/dev/null
D="--data $dir/data"
echo "precious" > "$dir/keep.h5"
i=0
check() {  # code, text, args...
    code=$1; text=$2; shift 2
    i=$((i + 1))
    "$HYPERCLIP" "$@" >"$dir/out" 2>"$dir/err"; got=$?
    lines=$(grep -c . "$dir/err")
    if [ "$got" -eq "$code" ] && grep -qF -- "$text" "$dir/err" && [ "$lines" -le 1 ]; then
        echo "ok $i - exit $code, one line with '$text': $*"
    else
        echo "not ok $i - expected exit $code and '$text' in one line, got exit $got: $*"
        sed 's/^/#   /' "$dir/err" | head -5
    fi
}
check 2 "unknown option '--epoch'"          train $D --epoch 3
check 2 "--epochs expects a whole number"   train $D --epochs three
check 2 "--epochs must be between 1"        train $D --epochs 0
check 2 "--batch must be between 1"         train $D --batch -5
check 2 "option --stack needs a value"      train $D --stack
check 2 "option --seed given twice"         train $D --seed 1 --seed 2
check 2 "unexpected argument 'extra'"       train $D extra
check 2 "option --no-shuffle takes no value" train $D --no-shuffle=yes
check 2 "--progress expects auto"           train $D --progress sometimes
check 2 "unknown --model 'resnet'"          train $D --model resnet
check 2 "unknown --normalize 'bogus'"      train $D --normalize bogus
check 2 "unknown optimizer 'adm'"           train $D --stack 'adm / sgd'
check 2 "column 13"                         train $D --stack 'adam / adam(clip=on)'
check 2 "clip is part of SGD's step"         train $D --stack 'adam / adam(clip=on)'
check 2 "unknown key"                       train $D --stack 'adam(lr=1e-3)'
check 2 "bad --stack"                       train $D --stack 'adam / sgd(alpha=1e-3'
check 2 "bad --stack"                       train $D --stack 'adam / sgd(alpha=x)'
# validate, then act: every option is checked before any file is read or written, so a
# typo is reported even when the data folder is missing too, and no output file appears
M="--data $dir/no-such-folder --checkpoint $dir/v.h5 --metrics $dir/vm.h5"
check 2 "unknown optimizer 'adm'"           train $M --stack 'adm / sgd'
check 2 "unknown --model 'resnet'"          train $M --model resnet
check 2 "unknown data set 'mnits'"          train $M --dataset mnits
check 2 "unknown --normalize 'bogus'"       train $M --normalize bogus
check 2 "unknown optimizer 'adm'"           train $M --stack 'adm / sgd' --resume "$dir/no-such.h5"
i=$((i + 1))
if [ ! -e "$dir/v.h5" ] && [ ! -e "$dir/vm.h5" ] && [ ! -e "$dir/no-such-folder" ]; then
    echo "ok $i - the refused runs created no checkpoint, metrics or folder"
else echo "not ok $i - a refused run left a file behind"; fi
check 2 "bad --stack"                       train $D --stack 'adam(clip=on)'
check 2 "bad --stack"                       train $D --stack 'adam / sgd(clip=maybe)'
check 2 "bad --stack"                       train $D --stack 'adam(beta1=1.5)'
check 2 "alpha=1e39 is inf in the build's float32 arithmetic" train $D --stack 'adam(alpha=1e39)'
check 2 "mu=0.99999999999 is 1 in the build's float32 arithmetic: mu must be in [0, 1)" train $D --stack 'sgd(mu=0.99999999999)'
check 2 "--stack needs a non-empty value"   train $D --stack ''
check 2 "empty"                             train $D --stack '  '
check 2 "bad --stack"                       train $D --stack 'adam //sgd'
check 2 "unknown command 'trian'"           trian
check 2 "needs --checkpoint"                eval $D
check 1 "data folder not found"             train --data "$dir/nope"
check 1 "$dir/keep.h5"                      train $D --init "$dir/keep.h5" --metrics "$dir/m.h5"
check 2 "--checkpoint-every needs --checkpoint" train $D --checkpoint-every 5
check 2 "not both"                          train $D --resume a.h5 --resume-if-exists a.h5
check 2 "give --init or --resume, not both" train $D --resume a.h5 --init b.h5
check 2 "usage: hyperclip info"             info
check 1 "$dir/nothing.h5"                   info "$dir/nothing.h5"
i=$((i + 1))
if [ "$(cat "$dir/keep.h5")" = precious ] && [ ! -e "$dir/m.h5" ]; then
    echo "ok $i - a refused run overwrote nothing and created no metrics file"
else echo "not ok $i - a refused run touched files"; fi
for sub in "--help" "train --help" "eval --help"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    if "$HYPERCLIP" $sub > "$dir/help" 2>&1 && grep -q "usage:" "$dir/help"; then
        echo "ok $i - hyperclip $sub prints usage and exits 0"
    else echo "not ok $i - hyperclip $sub"; fi
done
i=$((i + 1))
missing=""
for opt in data dataset normalize model stack epochs batch seed max-steps no-shuffle init metrics checkpoint checkpoint-every resume resume-if-exists threads progress quiet; do
    "$HYPERCLIP" train --help | grep -q -- "--$opt" || missing="$missing $opt"
done
if [ -z "$missing" ]; then echo "ok $i - train --help documents every option"
else echo "not ok $i - train --help misses:$missing"; fi
echo "1..$i"
