#!/bin/bash
# Nothing lost, nothing hangs (issue 12, families 1, 2, 3 and 8), with real files, real
# ranks and real signals:
#   overwrites: an existing checkpoint or metrics file is replaced only by its resume or
#     with --overwrite; two options naming one file (same path, ./path, hard link) are
#     refused up front;
#   not files: a directory, a FIFO or a device as an output or an input gets one line
#     calling it what it is, at once (a FIFO never blocks: every run is under timeout);
#   locks: a second run on the same files exits at once naming the first's host and PID;
#     a lock left by a killed run is taken over; a user's file with a lock file's name is
#     never filled or removed, and no option may name another's lock file;
#   messages: a too-long name is called that, no HDF5 error stack ever, and escape
#     sequences in a file's strings never reach the terminal through `hyperclip info`.
# Environment: HYPERCLIP (the program), TESTBIN (tests folder with gen_data), MPIRUN.
set -u
. "$(dirname "$0")/tap_lib.sh"
bg=
cleanup() { [ -n "$bg" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
sum() { cksum < "$1"; }
"$TESTBIN/gen_data" "$dir/data" --train 600 --test 100 --rows 12 --cols 12 >/dev/null
base=(train --data "$dir/data" --batch 32 --epochs 2 --quiet)
hc() { timeout 60 "$HYPERCLIP" "${base[@]}" "$@"; }

# ---- 1. overwrites ----
hc --checkpoint "$dir/c.h5" --metrics "$dir/m.h5" --max-steps 5 > "$dir/first.out" 2>&1
t "a first run writes its checkpoint and metrics" '[ -s "$dir/c.h5" ] && [ -s "$dir/m.h5" ]' "$dir/first.out"
c0=$(sum "$dir/c.h5"); m0=$(sum "$dir/m.h5")
refused "a fresh run onto an existing checkpoint" 1 "checkpoint $dir/c.h5 already exists" \
    "${base[@]}" --checkpoint "$dir/c.h5"
t "... the refusal names --resume and --overwrite" 'grep -q -- "--resume $dir/c.h5, or give --overwrite" "$last_out"'
refused "a fresh run onto an existing metrics file" 1 "metrics $dir/m.h5 already exists" \
    "${base[@]}" --metrics "$dir/m.h5"
echo notes > "$dir/notes.txt"
refused "a fresh run onto an existing file that is no checkpoint" 1 "checkpoint $dir/notes.txt already exists and is not a hyperclip checkpoint: name another file, or give --overwrite" \
    "${base[@]}" --checkpoint "$dir/notes.txt"
t "refused runs left both files as they were" '[ "$(sum "$dir/c.h5")" = "$c0" ] && [ "$(sum "$dir/m.h5")" = "$m0" ] && [ "$(cat "$dir/notes.txt")" = notes ]'
hc --checkpoint "$dir/c.h5" --metrics "$dir/m.h5" --max-steps 3 --overwrite > "$dir/ow.out" 2>&1; code=$?
t "--overwrite replaces both (exit $code)" '[ $code -eq 0 ] && [ "$(sum "$dir/c.h5")" != "$c0" ] && [ "$(sum "$dir/m.h5")" != "$m0" ]' "$dir/ow.out"
c0=$(sum "$dir/c.h5"); m0=$(sum "$dir/m.h5")
refused "--init W --metrics W" 2 "--init and --metrics name the same file" \
    "${base[@]}" --init "$dir/c.h5" --metrics "$dir/c.h5"
refused "--checkpoint X --metrics X" 2 "--checkpoint and --metrics name the same file" \
    "${base[@]}" --checkpoint "$dir/x.h5" --metrics "$dir/x.h5"
refused "--checkpoint X --metrics ./X (another spelling, file absent)" 2 "name the same file" \
    "${base[@]}" --checkpoint "$dir/y.h5" --metrics "$dir/./y.h5"
ln "$dir/m.h5" "$dir/hardlink.h5"
refused "--checkpoint on a hard link of --metrics (same inode)" 2 "--checkpoint and --metrics name the same file" \
    "${base[@]}" --checkpoint "$dir/hardlink.h5" --metrics "$dir/m.h5" --overwrite
refused "--resume R --metrics R" 2 "--resume and --metrics name the same file" \
    "${base[@]}" --resume "$dir/c.h5" --metrics "$dir/c.h5"
t "same-file refusals left the files as they were" '[ "$(sum "$dir/c.h5")" = "$c0" ] && [ "$(sum "$dir/m.h5")" = "$m0" ] && [ ! -e "$dir/x.h5" ]'

# ---- outputs that are not regular files: refused before anything is loaded ----
mkdir "$dir/folder"
mkfifo "$dir/fifo"
if [ "$(id -u)" -eq 0 ]; then mknod "$dir/null" c 1 3; dev=$dir/null; else dev=/dev/null; fi
refused "--checkpoint naming a directory" 1 "checkpoint $dir/folder: is a directory, not a regular file" \
    "${base[@]}" --checkpoint "$dir/folder"
refused "--checkpoint naming a character device" 1 "checkpoint $dev: is a character device" \
    "${base[@]}" --checkpoint "$dev"
t "... the device node is still a device" '[ -c "$dev" ]'
refused "--metrics naming a character device (was: segfault at exit)" 1 "metrics $dev: is a character device" \
    "${base[@]}" --metrics "$dev"
refused "--metrics naming a FIFO" 1 "metrics $dir/fifo: is a FIFO (named pipe)" \
    "${base[@]}" --metrics "$dir/fifo"
refused "--checkpoint in a folder that does not exist" 1 "its folder $dir/nowhere does not exist" \
    "${base[@]}" --checkpoint "$dir/nowhere/c.h5"
long=$(printf 'n%.0s' $(seq 300))
refused "--checkpoint with a 300-character name" 1 "File name too long" \
    "${base[@]}" --checkpoint "$dir/$long.h5"

# ---- 3. inputs never block ----
refused "--resume naming a FIFO" 1 "checkpoint $dir/fifo: is a FIFO (named pipe), not a regular file" \
    "${base[@]}" --resume "$dir/fifo"
refused "--resume-if-exists naming a FIFO" 1 "is a FIFO (named pipe)" \
    "${base[@]}" --resume-if-exists "$dir/fifo"
refused "--resume naming a directory (was: truncated or corrupt)" 1 "checkpoint $dir/folder: is a directory" \
    "${base[@]}" --resume "$dir/folder"
refused "--init naming a FIFO" 1 "init file $dir/fifo: is a FIFO (named pipe)" \
    "${base[@]}" --init "$dir/fifo"
refused "eval --checkpoint naming a FIFO" 1 "checkpoint $dir/fifo: is a FIFO (named pipe)" \
    eval --checkpoint "$dir/fifo" --data "$dir/data"
refused "info on a FIFO" 1 "info $dir/fifo: is a FIFO (named pipe)" info "$dir/fifo"
refused "info on a directory" 1 "info $dir/folder: is a directory" info "$dir/folder"
refused "info on a character device" 1 "is a character device" info "$dev"
cp -r "$dir/data" "$dir/fifodata"
rm "$dir/fifodata/t10k-labels-idx1-ubyte"
mkfifo "$dir/fifodata/t10k-labels-idx1-ubyte"
refused "a FIFO as the label file of the data folder" 1 "data file $dir/fifodata/t10k-labels-idx1-ubyte: is a FIFO" \
    train --data "$dir/fifodata" --quiet
"$MPIRUN" -np 2 timeout 30 "$HYPERCLIP" train --data "$dir/fifodata" --quiet > "$dir/fifo2.out" 2>&1; code=$?
t "... under mpirun -np 2 too: exit 1 (got $code), one message" '[ $code -eq 1 ] && [ "$(errors "$dir/fifo2.out")" -eq 1 ]' "$dir/fifo2.out"

# ---- 2. one run per file ----
"$TESTBIN/gen_data" "$dir/big" --train 20000 --test 100 --rows 28 --cols 28 >/dev/null
long_run=(train --data "$dir/big" --batch 16 --epochs 50 --quiet)
"$HYPERCLIP" "${long_run[@]}" --checkpoint "$dir/l.h5" --metrics "$dir/lm.h5" > "$dir/long.out" 2>&1 &
bg=$!
for _ in $(seq 600); do [ -s "$dir/l.h5.lock" ] && [ -s "$dir/lm.h5.lock" ] && break; sleep 0.1; done
t "a running run holds a lock beside its checkpoint and its metrics (host and PID inside)" \
  'grep -qx "$(hostname) $bg" "$dir/l.h5.lock" && grep -qx "$(hostname) $bg" "$dir/lm.h5.lock"'
start=$(date +%s)
refused "a second run on the same checkpoint" 1 "in use by another run: host and PID $(hostname) $bg" \
    "${long_run[@]}" --checkpoint "$dir/l.h5" --overwrite
t "... it exits at once ($(( $(date +%s) - start )) s)" '[ $(( $(date +%s) - start )) -lt 20 ]'
refused "a second run (resuming) on the same metrics only" 1 "metrics $dir/lm.h5: in use by another run" \
    "${long_run[@]}" --metrics "$dir/lm.h5" --overwrite
"$MPIRUN" -np 2 timeout 30 "$HYPERCLIP" "${long_run[@]}" --checkpoint "$dir/l.h5" --overwrite > "$dir/lock2.out" 2>&1; code=$?
t "... and a second run on 2 ranks: exit 1 (got $code), one message naming the holder" \
  '[ $code -eq 1 ] && [ "$(errors "$dir/lock2.out")" -eq 1 ] && grep -q "$(hostname) $bg" "$dir/lock2.out"' "$dir/lock2.out"
kill -USR1 "$bg"; wait "$bg"; code=$?; bg=
t "the first run was not disturbed: SIGUSR1 makes it checkpoint and exit 75 (got $code)" '[ $code -eq 75 ]' "$dir/long.out"
t "... and its locks are gone with it" '[ ! -e "$dir/l.h5.lock" ] && [ ! -e "$dir/lm.h5.lock" ]'
"$HYPERCLIP" train --resume "$dir/l.h5" --quiet > "$dir/long2.out" 2>&1 &
bg=$!
for _ in $(seq 600); do [ -s "$dir/l.h5.lock" ] && break; sleep 0.1; done
kill -9 "$bg"; wait "$bg" 2>/dev/null; bg=
t "kill -9 leaves the lock file of a dead process behind" 'grep -q " $(cat "$dir/l.h5.lock" | cut -d" " -f2)$" "$dir/l.h5.lock" && ! kill -0 "$(cut -d" " -f2 "$dir/l.h5.lock")" 2>/dev/null'
timeout 60 "$HYPERCLIP" train --resume "$dir/l.h5" --quiet --max-steps 5 > "$dir/take.out" 2>&1; code=$?
t "the dead run's lock is taken over: the resume runs (exit $code)" '[ $code -eq 0 ] && grep -q "resumed from" "$dir/take.out"' "$dir/take.out"
printf 'another-host 12345\n' > "$dir/l.h5.lock"
timeout 60 "$HYPERCLIP" train --resume "$dir/l.h5" --quiet --max-steps 5 > "$dir/take2.out" 2>&1; code=$?
t "a lock file whose fcntl lock nobody holds (its holder died, on any host) is taken over (exit $code)" \
  '[ $code -eq 0 ] && [ ! -e "$dir/l.h5.lock" ]' "$dir/take2.out"

# a user's file that has a lock file's name is neither filled nor removed, and no option
# may name the lock file beside another's output (a run fills that file, then removes it)
cp "$dir/c.h5" "$dir/k.h5.lock"; cp "$dir/c.h5" "$dir/km.h5.lock"; echo notes > "$dir/n.h5.lock"
k0=$(sum "$dir/k.h5.lock")
refused "--resume naming the lock file of its --checkpoint" 2 "--resume $dir/k.h5.lock is the lock file of --checkpoint $dir/k.h5" \
    train --resume "$dir/k.h5.lock" --checkpoint "$dir/k.h5"
refused "--metrics naming the lock file of --checkpoint" 2 "--metrics $dir/km.h5.lock is the lock file of --checkpoint $dir/km.h5" \
    "${base[@]}" --checkpoint "$dir/km.h5" --metrics "$dir/km.h5.lock"
refused "--checkpoint naming the lock file of --metrics (neither exists yet)" 2 "--checkpoint $dir/q.h5.lock is the lock file of --metrics $dir/q.h5" \
    "${base[@]}" --checkpoint "$dir/q.h5.lock" --metrics "$dir/q.h5"
refused "a checkpoint whose .lock name holds a user's file" 1 "checkpoint $dir/n.h5: its lock file (.lock beside it) exists and is not a lock" \
    "${base[@]}" --checkpoint "$dir/n.h5"
t "... those files are as they were, none created" \
  '[ "$(sum "$dir/k.h5.lock")" = "$k0" ] && [ "$(sum "$dir/km.h5.lock")" = "$k0" ] && [ "$(cat "$dir/n.h5.lock")" = notes ] && [ ! -e "$dir/k.h5" ] && [ ! -e "$dir/km.h5" ] && [ ! -e "$dir/q.h5" ] && [ ! -e "$dir/q.h5.lock" ] && [ ! -e "$dir/n.h5" ]'

# a checkpoint named through a symbolic link (a run folder on scratch): the file it names
# is replaced and the link stays; a link into a missing folder (scratch not mounted) is
# refused before anything is written, the link left as it was
mkdir -p "$dir/scratch"
ln -s scratch/sl.h5 "$dir/sl.h5"
hc --checkpoint "$dir/sl.h5" --resume-if-exists "$dir/sl.h5" --max-steps 3 > "$dir/sl1.out" 2>&1
hc --checkpoint "$dir/sl.h5" --resume-if-exists "$dir/sl.h5" --max-steps 6 > "$dir/sl2.out" 2>&1; code=$?
t "a checkpoint through a symbolic link: written, resumed and written again there, the link kept (exit $code)" \
  '[ $code -eq 0 ] && grep -q "resumed from" "$dir/sl2.out" && [ -L "$dir/sl.h5" ] && [ -f "$dir/scratch/sl.h5" ] && "$HYPERCLIP" info "$dir/scratch/sl.h5" | grep -q "step = 6"' "$dir/sl2.out"
ln -s gone/sd.h5 "$dir/sd.h5"
refused "a checkpoint linked into a missing folder" 1 "checkpoint $dir/sd.h5: a symbolic link whose target is missing: its folder $dir/gone does not exist" \
    "${base[@]}" --checkpoint "$dir/sd.h5" --resume-if-exists "$dir/sd.h5"
t "... the link is as it was, nothing created" '[ "$(readlink "$dir/sd.h5")" = gone/sd.h5 ] && [ ! -e "$dir/gone" ]'

# a data folder or file this user may not read is called that, not "not found" with a
# download hint (as root, whom permissions do not stop, the runs are made as nobody)
pub=$(mktemp -d "${TMPDIR:-/tmp}/hc-perm.XXXXXX") && chmod 755 "$pub"
mkdir -p "$pub/open" "$pub/shut/d" && cp "$dir/data"/* "$pub/open/" && cp "$dir/data"/* "$pub/shut/d/"
chmod 000 "$pub/open" "$pub/shut"     # no one but root may enter: the owner neither
as=(); [ "$(id -u)" -eq 0 ] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if [ ${#as[@]} -gt 0 ] && ! "${as[@]}" test -x "$HYPERCLIP"; then
    for k in 1 2; do i=$((i + 1)); echo "ok $i # SKIP nobody cannot run $HYPERCLIP (a folder above it is private to root)"; done
else
    for c in "open|data file $pub/open/train-images-idx3-ubyte" "shut/d|data folder $pub/shut/d"; do
        "${as[@]}" timeout 60 "$HYPERCLIP" train --data "$pub/${c%%|*}" --quiet --max-steps 1 > "$dir/perm.out" 2>&1; code=$?
        want="${c#*|}: Permission denied"
        t "unreadable: exit 1 (got $code), one line '$want'" \
          '[ $code -eq 1 ] && [ "$(wc -l < "$dir/perm.out")" -eq 1 ] && grep -qF "$want" "$dir/perm.out"' "$dir/perm.out"
    done
fi
chmod 755 "$pub/open" "$pub/shut"; rm -rf "$pub"

# ---- 8. messages: never HDF5's error stack; no escape sequence reaches the terminal ----
esc=$(printf '\033')
evil="$dir/d${esc}[31mred${esc}]0;title$(printf '\007')"
"$TESTBIN/gen_data" "$evil" --train 100 --test 50 --rows 8 --cols 8 >/dev/null
timeout 60 "$HYPERCLIP" train --data "$evil" --batch 50 --quiet --checkpoint "$dir/e.h5" >/dev/null 2>&1
timeout 30 "$HYPERCLIP" info "$dir/e.h5" > "$dir/info.out" 2>&1; code=$?
t "info on a file whose strings hold escape sequences (the data folder's name): exit $code, shown with '?'" \
  '[ $code -eq 0 ] && grep -q "data = $dir/d?\[31mred?\]0;title?" "$dir/info.out"' "$dir/info.out"
t "... and not one control character but newline in the output" '! LC_ALL=C grep -q "[[:cntrl:]]" "$dir/info.out"'
timeout 30 "$HYPERCLIP" "${base[@]}" --data "$evil" --dataset "x${esc}[2J" > "$dir/esc.out" 2>&1
t "an option value with an escape sequence is shown without it" '! LC_ALL=C grep -q "$esc" "$dir/esc.out" && [ "$(errors "$dir/esc.out")" -eq 1 ]' "$dir/esc.out"
t "no HDF5 error stack in any of the outputs above" '! grep -l "HDF5-DIAG" "$dir"/*.out'
echo "1..$i"
