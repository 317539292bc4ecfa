# shellcheck shell=bash
# tests/tap_lib.sh - what the shell tests of files and runs share (sourced): the MPI
# environment for running as root, the scratch folder $dir (removed at exit; a test with
# more to clean sets its own trap), TAP points, the one-line-refusal check and the small
# generated data sets of the rank tests.
: "${MPIRUN:=mpirun}" "${TESTBIN:=tests}" "${HYPERCLIP:=./hyperclip}" "${H5DIFF:=h5diff}"
export OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-1}"
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}"
export OMPI_MCA_rmaps_base_oversubscribe="${OMPI_MCA_rmaps_base_oversubscribe:-1}"
# KEEP_DIR=FOLDER (an empty one): the scratch goes there and stays, to look at after a failure
dir=${KEEP_DIR:-$(mktemp -d)}
[ -n "${KEEP_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
# small_sets: $dir/mnist (300 + 100 samples of 12 x 12) and $dir/cifar (150 + 40)
small_sets() {
    "$TESTBIN/gen_data" "$dir/mnist" --train 300 --test 100 --rows 12 --cols 12 >/dev/null
    "$TESTBIN/gen_cifar" "$dir/cifar" --train 150 --test 40 --seed 3 >/dev/null
}
i=0
t() {  # description, shell condition, [file to show on failure]
    i=$((i + 1))
    if eval "$2"; then echo "ok $i - $1"
    else echo "not ok $i - $1"; [ -n "${3:-}" ] && sed 's/^/# /' "$3" | tail -n 8; fi
}
errors() { grep -c "hyperclip: error:" "$1"; }
# refused DESCRIPTION CODE TEXT ARGS...: hyperclip ARGS exits CODE with exactly one line,
# the error, containing TEXT (under a timeout: nothing may block). Needs $dir.
refused() {
    local what=$1 want=$2 text=$3; shift 3
    local out=$dir/r$i.out
    last_out=$out
    timeout 60 "$HYPERCLIP" "$@" > "$out" 2>&1; local code=$?
    t "$what: exit $want (got $code), one line naming it ('$text')" \
      '[ $code -eq $want ] && [ "$(errors "$out")" -eq 1 ] && [ "$(wc -l < "$out")" -eq 1 ] && grep -qF -- "$text" "$out"' "$out"
}
