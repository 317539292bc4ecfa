#!/bin/bash
# HDF5 filter plugins: a file whose dataset names a filter HDF5 does not know must never
# make hyperclip load a plugin from HDF5_PLUGIN_PATH (arbitrary code): h5_quiet() turns
# plugin loading off (H5PLset_loading_state(0)) before every HDF5 read. The plugin
# (tests/evil_filter.c, compiled here) is a valid identity filter that appends to
# $HC_PLUGIN_MARKER when it is loaded; tests/h5refilter rewrites one dataset of a real
# checkpoint (or metrics file) to name its filter. The control: the stock h5dump, given
# the same file and environment, does load it.
# t() evaluates its condition itself: the single quotes are on purpose.
# shellcheck disable=SC2016,SC2034
set -u
: "${MPIRUN:=mpirun}" "${H5DIFF:=h5diff}" "${TESTBIN:=tests}" "${HYPERCLIP:=./hyperclip}" "${srcdir:=.}"
case $H5DIFF in */*) : "${H5DUMP:=${H5DIFF%/*}/h5dump}" ;; *) : "${H5DUMP:=h5dump}" ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=0
t() { i=$((i + 1)); if eval "$2"; then echo "ok $i - $1"; else echo "not ok $i - $1"; [ -n "${3:-}" ] && sed 's/^/# /' "$3" | tail -n 8; fi; }

# ---- the plugin: built with the compiler alone (no libraries, no sanitizers), so the
# serial h5dump and the MPI hyperclip (also when built with ASan) can both load it ----
mkdir "$dir/plugins"
plugin=$dir/plugins/libhc_evil_filter.so   # HDF5 1.10 loads only lib*.so* files
# shellcheck disable=SC2046
if ! ${CC:-cc} -shared -fPIC -O2 -Wall -Wextra $(pkg-config --cflags hdf5-openmpi) \
        -o "$plugin" "$srcdir/tests/evil_filter.c" > "$dir/cc.out" 2>&1; then
    echo "not ok 1 - compile the test filter plugin tests/evil_filter.c (needs gcc, pkg-config, libhdf5-openmpi-dev)"
    sed 's/^/# /' "$dir/cc.out"
    echo "1..1"
    exit 1
fi
sed 's/^/# cc: /' "$dir/cc.out"
marker=$dir/marker
ev() { HDF5_PLUGIN_PATH="$dir/plugins" HC_PLUGIN_MARKER="$marker" "$@"; }

# ---- a checkpoint and a metrics file, and copies with one dataset behind the filter ----
"$TESTBIN/gen_data" "$dir/data" --train 64 --test 32 --rows 6 --cols 6 >/dev/null
base=(train --data "$dir/data" --batch 16 --epochs 2 --quiet --stack 'adam / sgd(alpha=1e-3, clip=on)')
"$HYPERCLIP" "${base[@]}" --max-steps 4 --checkpoint "$dir/c.h5" --metrics "$dir/m.h5" > "$dir/train.out" 2>&1
t "a 4-step run wrote a checkpoint and a metrics file" '[ -s "$dir/c.h5" ] && [ -s "$dir/m.h5" ]' "$dir/train.out"
cp "$dir/c.h5" "$dir/w.h5"     # /model/fc1/weight filtered: read by --resume, --init, eval
cp "$dir/c.h5" "$dir/s.h5"     # /state/level1/raw filtered: 3 values, read by --resume and info
cp "$dir/m.h5" "$dir/wm.h5"    # /steps/loss filtered: read by info, written by a resumed run
"$TESTBIN/h5refilter" "$dir/w.h5" /model/fc1/weight > "$dir/refilter.out" 2>&1 &&
"$TESTBIN/h5refilter" "$dir/s.h5" /state/level1/raw >> "$dir/refilter.out" 2>&1 &&
"$TESTBIN/h5refilter" "$dir/wm.h5" /steps/loss >> "$dir/refilter.out" 2>&1; code=$?
t "h5refilter rewrote /model/fc1/weight, /state/level1/raw, /steps/loss in copies" '[ $code -eq 0 ]' "$dir/refilter.out"
"$H5DUMP" -p -H -d /model/fc1/weight "$dir/w.h5" > "$dir/layout.out" 2>&1
t "the copy's /model/fc1/weight is chunked with filter 32123 in its pipeline" \
  'grep -q "CHUNKED" "$dir/layout.out" && grep -q "FILTER_ID 32123" "$dir/layout.out"' "$dir/layout.out"
for f in w s wm; do cp "$dir/$f.h5" "$dir/$f.orig"; done

# ---- control: a stock HDF5 reader loads the plugin (so the points below can fail) ----
rm -f "$marker"
ev "$H5DUMP" -d /model/fc1/weight "$dir/w.h5" > "$dir/dump.out" 2>&1; code=$?
t "control: h5dump -d /model/fc1/weight with HDF5_PLUGIN_PATH loads the plugin (marker written) and reads the data (exit $code)" \
  '[ $code -eq 0 ] && grep -q "evil_filter: loaded" "$marker" && grep -q "asked for its filter" "$marker" && grep -q "DATA {" "$dir/dump.out"' "$dir/dump.out"
rm -f "$marker"
ev "$H5DIFF" "$dir/c.h5" "$dir/w.h5" > "$dir/diff.out" 2>&1; code=$?
ev "$H5DIFF" "$dir/c.h5" "$dir/s.h5" >> "$dir/diff.out" 2>&1; code2=$?
ev "$H5DIFF" "$dir/m.h5" "$dir/wm.h5" >> "$dir/diff.out" 2>&1; code3=$?
t "control: through the plugin, h5diff finds every copy equal to its original (same values, type, shape)" \
  '[ $code -eq 0 ] && [ $code2 -eq 0 ] && [ $code3 -eq 0 ] && [ -s "$marker" ]' "$dir/diff.out"
rm -f "$marker"
ev "$HYPERCLIP" "${base[@]}" --init "$dir/c.h5" --max-steps 1 > "$dir/ok.out" 2>&1; code=$?
t "control: the same environment with the unfiltered checkpoint as --init trains (exit $code)" \
  '[ $code -eq 0 ] && [ ! -e "$marker" ]' "$dir/ok.out"

# ---- hyperclip: each reader refuses the file, and no plugin is ever loaded ----
# refuse TEXT FILE ARGS...: runs ARGS with the plugin path and the marker set; expects
# exit 1 with one message naming FILE, no marker, and FILE (a refiltered copy) unchanged.
# FILE is restored from its .orig first: a run that wrongly succeeded may have
# overwritten it with an unfiltered checkpoint, which would make later points pass.
refuse() {
    local text=$1 file=$2; shift 2
    cp "${file%.h5}.orig" "$file"
    rm -f "$marker"
    ev "$@" > "$dir/run.out" 2>&1; local code=$?
    t "$text: no plugin loaded" '[ ! -e "$marker" ]' "$marker"
    t "$text: exit 1 (got $code), one message naming $(basename "$file"), the file unchanged" \
      '[ $code -eq 1 ] && [ "$(grep -c "hyperclip: error:" "$dir/run.out")" -eq 1 ] &&
       grep "hyperclip: error:" "$dir/run.out" | grep -qF "$file" && cmp -s "$file" "${file%.h5}.orig"' "$dir/run.out"
    grep "hyperclip: error:" "$dir/run.out" | sed 's/^/#   /'
}
refuse "train --resume (checkpoint's /model/fc1/weight filtered)" "$dir/w.h5" \
    "$HYPERCLIP" "${base[@]}" --resume "$dir/w.h5" --checkpoint "$dir/w.h5" --metrics "$dir/m1.h5"
refuse "mpirun -np 2 train --resume (the same, 2 ranks)" "$dir/w.h5" \
    "$MPIRUN" -np 2 "$HYPERCLIP" "${base[@]}" --resume "$dir/w.h5" --checkpoint "$dir/w.h5"
refuse "train --resume (checkpoint's /state/level1/raw filtered)" "$dir/s.h5" \
    "$HYPERCLIP" "${base[@]}" --resume "$dir/s.h5" --checkpoint "$dir/s.h5"
refuse "train --init (weights file's /model/fc1/weight filtered)" "$dir/w.h5" \
    "$HYPERCLIP" "${base[@]}" --init "$dir/w.h5" --checkpoint "$dir/new.h5" --metrics "$dir/m2.h5"
t "train --init refused: no checkpoint and no metrics file created" '[ ! -e "$dir/new.h5" ] && [ ! -e "$dir/m2.h5" ]'
refuse "eval --checkpoint (/model/fc1/weight filtered)" "$dir/w.h5" \
    "$HYPERCLIP" eval --checkpoint "$dir/w.h5" --data "$dir/data"
refuse "info (checkpoint's /state/level1/raw filtered; info prints small datasets' values)" "$dir/s.h5" \
    "$HYPERCLIP" info "$dir/s.h5"

# info on a metrics file reads each /steps column's last value; an unreadable column is
# reported as "not a column" (exit 0): the point is that nothing is loaded
cp "$dir/wm.orig" "$dir/wm.h5"
rm -f "$marker"
ev "$HYPERCLIP" info "$dir/wm.h5" > "$dir/info.out" 2>&1; code=$?
t "info (metrics file's /steps/loss filtered): no plugin loaded" '[ ! -e "$marker" ]' "$marker"
t "info (metrics file's /steps/loss filtered): describes the file without the loss (exit $code), file unchanged" \
  '[ $code -eq 0 ] && grep -q "loss (not a column)" "$dir/info.out" && cmp -s "$dir/wm.h5" "$dir/wm.orig"' "$dir/info.out"

# a resumed run reopens its metrics file and appends to its columns: a filtered column
# is refused when the file is reopened, before any step, and the file is left as it was.
# (HDF5 1.10 looks for plugins only to read, so this case shows the reopen check, not
# the loading switch.)
cp "$dir/c.h5" "$dir/c2.h5"; cp "$dir/wm.orig" "$dir/wm.h5"
rm -f "$marker"
ev "$HYPERCLIP" "${base[@]}" --resume "$dir/c2.h5" --checkpoint "$dir/c2.h5" --metrics "$dir/wm.h5" > "$dir/run.out" 2>&1; code=$?
t "train --resume --metrics (metrics file's /steps/loss filtered, written not read): no plugin loaded" '[ ! -e "$marker" ]' "$marker"
t "train --resume --metrics (metrics file's /steps/loss filtered, written not read): exit 1 (got $code), one message naming it" \
  '[ $code -eq 1 ] && [ "$(grep -c "hyperclip: error:" "$dir/run.out")" -eq 1 ] &&
   grep "hyperclip: error:" "$dir/run.out" | grep -qF "$dir/wm.h5" &&
   grep "hyperclip: error:" "$dir/run.out" | grep -q "steps/loss has a filter"' "$dir/run.out"
grep "hyperclip: error:" "$dir/run.out" | sed 's/^/#   /'
t "train --resume --metrics refused before training: the metrics file is unchanged" \
  'cmp -s "$dir/wm.h5" "$dir/wm.orig"' "$dir/run.out"
echo "1..$i"
