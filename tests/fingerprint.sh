#!/bin/sh
# docs/results.md records the fingerprint of the arithmetic that made its runs (four fixed
# runs, 300 steps each, final losses to 17 digits: tools/fingerprint). This build must give
# the same numbers; when it does not, the arithmetic changed and the page was not
# regenerated: the test fails and the output names what regenerates the page. On a
# machine with other BLIS kernels or another -march the bits cannot be compared: SKIP.
set -u
: "${HYPERCLIP:=./hyperclip}" "${TESTBIN:=tests}" "${srcdir:=.}"
page=$srcdir/docs/results.md
out=$("$srcdir/tools/fingerprint" --hyperclip "$HYPERCLIP" --gen-data "$TESTBIN/gen_data" --check "$page" 2>&1)
code=$?
echo "$out" | sed 's/^/# /'
case $code in
0) echo "ok 1 - $page: its fingerprint is this build's (4 runs, losses equal to the last digit)" ;;
77) echo "ok 1 # SKIP $(echo "$out" | tail -n 1 | sed 's/^fingerprint: //')" ;;
1) echo "not ok 1 - $(echo "$out" | tail -n 1 | sed 's/^fingerprint: //')" ;;
*) echo "not ok 1 - tools/fingerprint failed (exit $code): $(echo "$out" | tail -n 1)" ;;
esac
echo "1..1"
