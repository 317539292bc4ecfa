#!/bin/bash
# Multi-node training on emulated nodes. Each node is a network namespace with its own
# hostname (a UTS namespace) and its own node-local folder (a mount namespace binds
# NODE/local over $tmp/local), cabled to a bridge in a "switch" namespace by a veth pair
# with a private address; nothing else is reachable from them (no other interface, no
# route). Open MPI runs over TCP between them (btl tcp,self,vader; oob tcp; both limited
# to the test's subnet), launched from node1 with a hostfile and a launcher agent that
# runs the remote command in the target node's namespaces (plm_rsh_agent, as ssh would).
#
# Checked: the launcher reaches every node; 2 nodes x 2 ranks train like 1 node x 4 ranks
# up to summation order; each node reads its own copy of the data, once (the ranks of a
# node share it); rank 0 writes the checkpoint (on its node only); a node killed mid-run
# ends the job within a bounded time, leaving nothing running and a complete checkpoint;
# that checkpoint resumes on 3 nodes and the run completes, bitwise equal (--reproducible) to an uninterrupted
# one. Everything made is removed at the end, by PID and by name: processes, namespaces,
# their /etc/netns entries, files. Needs root (namespaces); without it every point is
# reported as SKIP with the reason.
set -u
: "${HYPERCLIP:=./hyperclip}" "${TESTBIN:=tests}" "${MPIRUN:=mpirun}" "${H5DIFF:=h5diff}" "${srcdir:=.}"
HYPERCLIP=$(cd "$(dirname "$HYPERCLIP")" && pwd)/$(basename "$HYPERCLIP")
POINTS=16
i=0
ok()      { i=$((i + 1)); echo "ok $i - $*"; }
not_ok()  { i=$((i + 1)); echo "not ok $i - $*"; }
comment() { sed 's/^/# /'; }
check()   { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
skip_all() {
    echo "1..$POINTS"
    for ((k = 1; k <= POINTS; k++)); do echo "ok $k # SKIP $1"; done
    exit 0
}
# wait_for SECONDS COMMAND... : polls every 0.2 s until the command succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do [ $SECONDS -ge $deadline ] && return 1; sleep 0.2; done
}

# ---- the emulated cluster ------------------------------------------------------------
NETNS_PREFIX=hcmn-$$
# shellcheck source=tests/netns.sh
. "$srcdir/tests/netns.sh"
netns_usable || skip_all "$NETNS_WHY"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # root, as checked above
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hc-multinode.XXXXXX") || exit 1
NODES="node1 node2 node3"
SUBNET=$NETNS_SUBNET

# Teardown, always: processes, namespaces and /etc/netns entries (netns_down), the folder.
teardown() {
    netns_down
    # a mount point left busy by a process still ending: try the folder again shortly
    rm -rf "$tmp" 2>/dev/null || { sleep 1; rm -rf "$tmp"; }
}
trap teardown EXIT
trap 'exit 1' INT TERM HUP

if ! netns_up $NODES; then not_ok "could not build the emulated nodes"; echo "1..$i"; exit 1; fi
for n in $NODES; do mkdir -p "$tmp/$n/data" "$tmp/$n/ckpt" "$tmp/$n/shm" "$tmp/$n/session"; done
mkdir -p "$tmp/local" "$tmp/shared"
check "3 nodes ($NODES) on a bridge, $SUBNET; each has only lo and eth0 and no route off the subnet" netns_confined

# The launcher agent: `agent HOST CMDLINE` runs CMDLINE (a shell command line, as mpirun
# hands it to ssh) on HOST: its network namespace, a UTS namespace named HOST, and a mount
# namespace where HOST's folder is node-local: $tmp/HOST/data, /ckpt, /shm (Open MPI's
# shared-memory files, /dev/shm on a real node) and /session appear under $tmp/local. `agent --argv HOST CMD ARGS...` runs the words as they are.
cat > "$tmp/agent" <<EOF
#!/bin/sh
run=eval; [ "\$1" = --argv ] && { run=exec; shift; }
host=\$1; shift
[ \$run = eval ] && set -- "\$*"
exec ip netns exec "$NETNS_PREFIX-\$host" unshare --uts --mount sh -c '
    hostname "\$1" && mount --bind "$tmp/\$1" "$tmp/local" || exit 1
    run=\$2; shift 2
    if [ \$run = eval ]; then eval "\$1"; else exec "\$@"; fi' sh "\$host" "\$run" "\$@"
EOF
chmod +x "$tmp/agent"
for n in $NODES; do echo "$n slots=2"; done > "$tmp/hosts3x2"
printf 'node1 slots=2\nnode2 slots=2\n' > "$tmp/hosts2x2"
printf 'node1 slots=4\n' > "$tmp/hosts1x4"
for n in $NODES; do echo "$n slots=1"; done > "$tmp/hosts3x1"

# mpirun_on HOSTFILE NP ARGS... : mpirun started on node1, ranks placed by the hostfile.
# yield_when_idle: more ranks than this machine's cores, so a waiting rank must not spin.
mpirun_on() {
    local hf=$1 np=$2; shift 2
    timeout 120 "$tmp/agent" --argv node1 "$MPIRUN" --hostfile "$hf" -np "$np" \
        --mca plm rsh --mca plm_rsh_agent "$tmp/agent" --mca plm_rsh_no_tree_spawn 1 \
        --mca btl tcp,self,vader --mca oob tcp \
        --mca btl_tcp_if_include "$SUBNET" --mca oob_tcp_if_include "$SUBNET" \
        --mca mpi_yield_when_idle 1 --mca btl_vader_single_copy_mechanism none \
        --mca orte_tmpdir_base "$tmp/local/session" --mca btl_vader_backing_directory "$tmp/local/shm" \
        --mca osc_sm_backing_directory "$tmp/local/shm" --mca osc_rdma_backing_directory "$tmp/local/shm" \
        --mca shmem_mmap_backing_file_base_dir "$tmp/local/shm" "$@"
}

out=$(mpirun_on "$tmp/hosts3x2" 6 hostname 2>"$tmp/launch.err" | sort | tr '\n' ' ')
if [ "$out" = "node1 node1 node2 node2 node3 node3 " ]; then
    ok "launcher: mpirun on node1, hostfile of 3 nodes x 2 slots, hostname on 6 ranks: $out"
else comment < "$tmp/launch.err"; not_ok "launcher: hostname on 6 ranks printed '$out'"; fi

# ---- training across nodes -----------------------------------------------------------
# One copy of the data per node, each node's own (the path names the node-local folder).
"$TESTBIN/gen_data" "$tmp/node1/data" --train 1000 --test 200 --rows 12 --cols 12 >/dev/null
for n in node2 node3; do cp "$tmp/node1/data/"* "$tmp/$n/data/"; done
train=("$HYPERCLIP" train --data "$tmp/local/data" --stack 'adam / sgd(alpha=1e-3, clip=on)'
       --batch 32 --seed 5 --progress never)

# The reference: one node, 4 ranks (shared memory only).
mpirun_on "$tmp/hosts1x4" 4 "${train[@]}" --epochs 3 \
    --metrics "$tmp/shared/ref.h5" >"$tmp/ref.out" 2>&1; code=$?
if [ $code -eq 0 ]; then ok "reference: 1 node x 4 ranks, 3 epochs, exit 0"
else comment < "$tmp/ref.out"; not_ok "reference run failed (exit $code)"; fi

before=$(netns_eth0_bytes node2)
mpirun_on "$tmp/hosts2x2" 4 "${train[@]}" --epochs 3 --checkpoint "$tmp/local/ckpt/run.h5" \
    --metrics "$tmp/shared/two.h5" >"$tmp/two.out" 2>&1; code=$?
moved=$(( $(netns_eth0_bytes node2) - before ))
if [ $code -eq 0 ] && grep -q "4 ranks" "$tmp/two.out"; then
    ok "2 nodes x 2 ranks over TCP: exit 0, $moved bytes through node2's eth0"
else comment < "$tmp/two.out"; not_ok "2-node run failed (exit $code)"; fi
check "the training traffic crossed the test's link (node2's eth0 moved over 100 kB)" test "$moved" -gt 100000
check "one copy of the data per node, shared by the node's 2 ranks (start-up line)" \
    grep -q "one copy per node, shared by 2 ranks" "$tmp/two.out"
diffs=""
for obj in /steps/loss /steps/level1/alpha/value /steps/level2/alpha/value /epochs/test_loss; do
    "$H5DIFF" --relative=1e-5 "$tmp/shared/ref.h5" "$tmp/shared/two.h5" "$obj" "$obj" >"$tmp/diff" 2>&1 ||
        { diffs="$diffs $obj"; head -5 "$tmp/diff" | comment; }
done
check "2 nodes x 2 ranks = 1 node x 4 ranks up to summation order (loss, alphas, test loss within 1e-5 rel)" \
    test -z "$diffs"
# --reproducible: across the nodes, the same bits as one rank alone (h5diff, no tolerance)
mpirun_on "$tmp/hosts1x4" 1 "${train[@]}" --epochs 1 --reproducible 4 \
    --metrics "$tmp/shared/rep1.h5" >"$tmp/rep1.out" 2>&1
mpirun_on "$tmp/hosts2x2" 4 "${train[@]}" --epochs 1 --reproducible 4 \
    --metrics "$tmp/shared/rep4.h5" >"$tmp/rep4.out" 2>&1
rep_same() {
    "$H5DIFF" "$tmp/shared/rep1.h5" "$tmp/shared/rep4.h5" /steps /steps >/dev/null 2>&1 &&
    "$H5DIFF" "$tmp/shared/rep1.h5" "$tmp/shared/rep4.h5" /epochs/test_loss /epochs/test_loss >/dev/null 2>&1
}
check "--reproducible 4: 2 nodes x 2 ranks over TCP bitwise equal to 1 rank (every step, test loss)" rep_same
# Node2 without its copy: the run stops, naming the file node2 lacks (so node2 reads its own).
mv "$tmp/node2/data" "$tmp/node2/data.away" && mkdir "$tmp/node2/data"
mpirun_on "$tmp/hosts2x2" 4 "${train[@]}" --epochs 1 >"$tmp/nodata.out" 2>&1; code=$?
rmdir "$tmp/node2/data" && mv "$tmp/node2/data.away" "$tmp/node2/data"
check "node2 without its copy of the data: exit 1 (got $code), one message naming the missing file" \
    sh -c "[ $code -eq 1 ] && [ \$(grep -c 'hyperclip: error: no such file: $tmp/local/data/train-images' '$tmp/nodata.out') -eq 1 ]"
# Rank 0 is on node1: its node-local folder has the checkpoint, node2's has nothing.
check "rank 0 wrote the checkpoint: in node1's local folder, nothing in node2's" \
    sh -c "[ -s '$tmp/node1/ckpt/run.h5' ] && [ -z \"\$(ls -A '$tmp/node2/ckpt')\" ]"

# ---- a node dies mid-run ---------------------------------------------------------------
# 16 epochs of 32 steps, a checkpoint every 40 steps; node2 is killed (every process in its
# namespace, kill -9) once the first checkpoint is there.
rm -f "$tmp/node1/ckpt/"*
# ~4000 steps: still running when node2 is killed on a fast, quiet machine; --reproducible
# makes the killed + resumed run (4 ranks, then 3) comparable bit for bit with the whole one
long=(--epochs 120 --checkpoint-every 40 --reproducible 4)
mpirun_on "$tmp/hosts2x2" 4 "${train[@]}" "${long[@]}" \
    --checkpoint "$tmp/local/ckpt/kill.h5" >"$tmp/kill.out" 2>&1 &
job=$!
ckpt_or_ended() { [ -s "$tmp/node1/ckpt/kill.h5" ] || ! kill -0 "$job" 2>/dev/null; }
if wait_for 60 ckpt_or_ended && kill -0 "$job" 2>/dev/null; then
    sleep 0.3
    victims=$(netns_pids node2)
    # shellcheck disable=SC2086
    kill -9 $victims 2>/dev/null
    start=$SECONDS
    wait "$job"; code=$?
    ended=$((SECONDS - start))
    if [ $code -ne 0 ] && [ $code -ne 124 ] && [ $ended -le 60 ]; then
        ok "node2 killed (pids $victims): the job ended by itself in ${ended} s with exit $code"
    else comment < "$tmp/kill.out"; not_ok "after node2 was killed: exit $code after ${ended} s"; fi
else
    wait "$job"; comment < "$tmp/kill.out"; not_ok "no running job with a checkpoint within 60 s"
fi
left=""
for n in $NODES; do left="$left$(netns_pids $n)"; done
check "nothing left running on any node (${left:-no pids})" test -z "${left// /}"
tail -3 "$tmp/kill.out" | comment
at=$("$HYPERCLIP" info "$tmp/node1/ckpt/kill.h5" 2>&1 | sed -n 's/.*step[ =:]*\([0-9][0-9]*\).*/\1/p' | head -1)
# (the killed rank 0's lock file, kill.h5.lock, may stay: the next run takes it over)
check "the checkpoint left is complete: hyperclip info reads it (step ${at:-?}), no temporary file beside it" \
    sh -c "'$HYPERCLIP' info '$tmp/node1/ckpt/kill.h5' >/dev/null 2>&1 && [ -z \"\$(ls '$tmp/node1/ckpt' | grep -v '^kill.h5\(.lock\)\?\$')\" ]"

# ---- resumed on another number of nodes ------------------------------------------------
# The checkpoint goes where every node can read it (a shared folder), and the run goes on
# on 3 nodes x 1 rank; it must end where the uninterrupted 1 x 4 run ends, up to
# summation order.
cp "$tmp/node1/ckpt/kill.h5" "$tmp/shared/kill.h5"
mpirun_on "$tmp/hosts3x1" 3 "${train[@]}" "${long[@]}" --resume "$tmp/shared/kill.h5" \
    --checkpoint "$tmp/local/ckpt/kill.h5" --metrics "$tmp/shared/resumed.h5" >"$tmp/resume.out" 2>&1; code=$?
if [ $code -eq 0 ] && grep -q "^resumed from .* at step" "$tmp/resume.out"; then
    ok "resumed on 3 nodes x 1 rank: $(grep '^resumed from' "$tmp/resume.out" | sed 's/.*\(at step [0-9]*\).*/\1/'), exit 0"
else comment < "$tmp/resume.out"; not_ok "resume on 3 nodes failed (exit $code)"; fi
mpirun_on "$tmp/hosts1x4" 4 "${train[@]}" "${long[@]}" \
    --checkpoint "$tmp/shared/whole.h5" >"$tmp/whole.out" 2>&1
if out=$("$H5DIFF" "$tmp/shared/whole.h5" "$tmp/node1/ckpt/kill.h5" /model /model 2>&1); then
    ok "killed + resumed on 3 nodes = uninterrupted 1 x 4 run (--reproducible 4): final weights bitwise equal"
else echo "$out" | head -8 | comment; not_ok "final weights differ from the uninterrupted run's"; fi

# ---- cleanup, checked ----------------------------------------------------------------
teardown
gone=1
netns_gone || gone=0
[ -e "$tmp" ] && gone=0
check "cleanup: no namespace, /etc/netns entry or file of this test left" test $gone = 1
echo "# took $SECONDS s"
echo "1..$i"
