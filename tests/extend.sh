#!/bin/bash
# The worked examples of docs/architecture.md are real: a copy of the tree gets the
# optimizer, the model and the data format exactly as the page shows them (each block
# marked `new` written as its file, each `append` line added to its list, the new files
# added to Makefile.am's core_sources), is built, and trains with all three at once.
set -u
: "${srcdir:=.}"
. "$srcdir/tests/tap_lib.sh"
doc=$srcdir/docs/architecture.md
if ! command -v git >/dev/null || ! git -C "$srcdir" rev-parse >/dev/null 2>&1; then
    echo "1..0 # SKIP the tree is copied with git ls-files: no git checkout at $srcdir"; exit 0
fi
tree=$dir/tree
mkdir "$tree"
(cd "$srcdir" && git ls-files -z | xargs -0 tar cf -) | tar xf - -C "$tree"
# the page's blocks: ```c PATH new|append ... ```
awk -v root="$tree" '
    /^```c [^ ]+ (new|append)$/ { path = root "/" $2; mode = $3; inblock = 1; body = ""; next }
    inblock && /^```$/ {
        if (mode == "new") { printf "%s", body > path; close(path); print "new " path }
        else { lines[path] = lines[path] body }
        inblock = 0; next }
    inblock { body = body $0 "\n" }
    END { for (p in lines) { printf "%s", lines[p] > (p ".add"); close(p ".add"); print "append " p } }
' "$doc" > "$dir/blocks"
n_new=$(grep -c '^new ' "$dir/blocks"); n_app=$(grep -c '^append ' "$dir/blocks")
t "the page has 3 new files and 3 list lines (got $n_new, $n_app)" '[ "$n_new" -eq 3 ] && [ "$n_app" -eq 3 ]' "$dir/blocks"
while read -r mode path; do
    if [ "$mode" = append ]; then           # the list macro's last line gets its backslash
        sed -i '$ s/$/ \\/' "$path" && cat "$path.add" >> "$path" && rm "$path.add"
    else
        rel=${path#"$tree"/}
        sed -i "s|^core_sources = |core_sources = $rel |" "$tree/Makefile.am"
    fi
done < "$dir/blocks"
t "Makefile.am lists the 3 new files" 'grep -q "^core_sources = .*src/optim_rmsprop_slow.c" "$tree/Makefile.am" && grep -q "^core_sources = .*src/model_mlp256.c" "$tree/Makefile.am" && grep -q "^core_sources = .*src/data_kmnist.c" "$tree/Makefile.am"'
# a make of its own: not the jobserver of a `make check` around this test
(cd "$tree" && unset MAKEFLAGS MFLAGS MAKELEVEL && autoreconf -fi && ./configure -q &&
 nice make -j2 hyperclip) > "$dir/build.out" 2>&1
built=$?
grep -E '\.[ch]:[0-9]+:[0-9]+: warning:' "$dir/build.out" > "$dir/warnings"
t "the tree with the three additions builds without a compiler warning" '[ $built -eq 0 ] && [ ! -s "$dir/warnings" ]' "$dir/build.out"
H=$tree/hyperclip
"$H" train --help > "$dir/help" 2>&1
t "train --help lists rmsprop_slow, mlp256 and kmnist" 'grep -q "rmsprop_slow(alpha=0.01, gamma=0.999)" "$dir/help" && grep -q "mlp256  the mlp with 256" "$dir/help" && grep -q "kmnist  IDX files" "$dir/help"' "$dir/help"
"$TESTBIN/gen_data" "$dir/kmnist-data" --train 128 --test 32 --rows 8 --cols 8 >/dev/null
"$MPIRUN" -np 2 "$H" train --data "$dir/kmnist-data" --model mlp256 --stack 'rmsprop_slow / sgd(alpha=1e-4)' \
    --batch 32 --epochs 1 --checkpoint "$dir/c.h5" --progress never > "$dir/run.out" 2>&1
code=$?
t "2 ranks train mlp256 with rmsprop_slow on kmnist (data set inferred from the folder)" \
  '[ $code -eq 0 ] && grep -q "model mlp256" "$dir/run.out" && grep -q "stack rmsprop_slow" "$dir/run.out" && grep -q "data kmnist" "$dir/run.out"' "$dir/run.out"
t "its checkpoint has 256 hidden units and rmsprop_slow's s over all 19210 weights" \
  'h5ls "$dir/c.h5/model/fc1/weight" | grep -q "{256, 64}" && h5ls -r "$dir/c.h5/state" | grep -q "level1/state0 *Dataset {19210}"' "$dir/run.out"
"$MPIRUN" -np 1 "$H" eval --checkpoint "$dir/c.h5" > "$dir/eval.out" 2>&1
t "eval scores that checkpoint" 'grep -q "on kmnist test set (32 samples)" "$dir/eval.out"' "$dir/eval.out"
echo "1..$i"
