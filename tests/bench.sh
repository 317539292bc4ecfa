#!/bin/sh
# The benchmark runs (a few steps, generated MNIST-shaped data) on 1 and 2 ranks and its
# --json line has every field, with positive numbers. No assertion on time: CI machines
# are too noisy for that; docs/performance.md has the measured figures.
set -u
: "${MPIRUN:=mpirun}" "${TESTBIN:=tests}"
: "${BENCH:=$TESTBIN/../tools/bench}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# fields that must be numbers > 0 (the breakdown's comm may be ~0 on one rank)
positive="ranks threads batch local_batch steps samples_per_s ms_per_step gather model
 hypergrad weights gemm gemm_mflop_per_step gemm_gflops blis_gflops gemm_efficiency
 gemm_bound_ms ratio_to_gemm_bound rss_mb_max rss_mb_mean cpu_share loss_first loss_last"
# fields that must be numbers >= 0
nonneg="comm hyper advance elementwise allocs_in_step allocs_in_allreduce bucket
 probe_step_comm_ms probe_bare_allreduce_ms probe_reduce_scatter_allgather_ms"

i=0
for p in 1 2; do
    i=$((i + 1))
    if "$MPIRUN" -np $p "$BENCH" --steps 4 --warmup 1 --json >"$dir/out$p" 2>"$dir/err$p"; then
        echo "ok $i - bench on $p rank(s) exits 0"
    else
        echo "not ok $i - bench on $p rank(s) failed"; sed 's/^/# /' "$dir/err$p" | head -10
    fi
    i=$((i + 1))
    lines=$(grep -c '^{' "$dir/out$p")
    if [ "$lines" -eq 1 ] && [ "$(grep -c . "$dir/out$p")" -eq 1 ]; then
        echo "ok $i - bench on $p rank(s) prints one JSON line"
    else
        echo "not ok $i - bench on $p rank(s): expected one JSON line"; sed 's/^/# /' "$dir/out$p" | head -10
    fi
    json=$(cat "$dir/out$p")
    # a field's number: "key": value (the stack and data strings contain no such text)
    num() { printf '%s\n' "$json" | sed -n "s/.*\"$1\": *\(-\{0,1\}[0-9][0-9.eE+-]*\).*/\1/p"; }
    for kind in positive nonneg; do
        eval "fields=\$$kind"
        for f in $fields; do
            i=$((i + 1))
            v=$(num "$f")
            if [ -n "$v" ] && awk -v v="$v" -v k="$kind" \
                'BEGIN { exit !(k == "positive" ? v + 0 > 0 : v + 0 >= 0) }'; then
                echo "ok $i - $p rank(s): $f = $v"
            else
                echo "not ok $i - $p rank(s): $f missing or not $kind ('$v')"
            fi
        done
    done
    i=$((i + 1))
    if [ "$(num ranks)" = "$p" ] && [ "$(num steps)" = "4" ]; then
        echo "ok $i - $p rank(s): the JSON reports the run's ranks and steps"
    else
        echo "not ok $i - $p rank(s): ranks/steps in the JSON do not match the run"
    fi
    i=$((i + 1))
    if printf '%s\n' "$json" | grep -q '"stack": "adam(' &&
       printf '%s\n' "$json" | grep -q '"blis_gflops_per_shape": \[[0-9.]*, [0-9.]*, [0-9.]*, [0-9.]*, [0-9.]*\]'; then
        echo "ok $i - $p rank(s): canonical stack and five per-shape BLIS rates"
    else
        echo "not ok $i - $p rank(s): stack or per-shape rates missing"
    fi
done

# One bench run (mpirun arguments follow) whose JSON line, in $json, must pass a check.
bench_case() {  # description condition mpirun-args...
    what=$1 cond=$2
    shift 2
    i=$((i + 1))
    if "$MPIRUN" "$@" >"$dir/case" 2>"$dir/case.err"; then
        json=$(cat "$dir/case")
        if eval "$cond"; then
            echo "ok $i - $what"
        else
            echo "not ok $i - $what: fields wrong"; sed 's/^/# /' "$dir/case" | head -5
        fi
    else
        echo "not ok $i - $what: the run failed"; sed 's/^/# /' "$dir/case.err" | head -10
    fi
}

# --independent (the ceiling: each rank trains its shard alone, no allreduce): it says so,
# counts both ranks' samples (local batch = half of the global one), and never allreduces
bench_case "--independent on 2 ranks: marked, 128 of 256 per rank, no allreduce (under 5 µs: the clock)" \
    'printf "%s\n" "$json" | grep -q "\"independent\": true" && [ "$(num local_batch)" = 128 ] &&
     [ "$(num batch)" = 256 ] && awk -v v="$(num comm)" "BEGIN { exit !(v + 0 < 0.005) }"' \
    -np 2 "$BENCH" --independent --steps 4 --warmup 1 --json

# 2 ranks: the communication probe ran (both figures positive) with the bucket asked for,
# and the step's comm phase was timed
bench_case "2 ranks, --bucket 4096: the probe times the step's reduction and a bare allreduce" \
    '[ "$(num bucket)" = 4096 ] && awk -v s="$(num probe_step_comm_ms)" -v b="$(num probe_bare_allreduce_ms)" \
         -v c="$(num comm)" -v r="$(num probe_reduce_scatter_allgather_ms)" "BEGIN { exit !(s > 0 && b > 0 && c > 0 && r > 0) }"' \
    -np 2 "$BENCH" --bucket 4096 --steps 8 --warmup 1 --json

# the sharded update: the bench says so, its probe times the step's reduce-scatter and
# allgathers; auto leaves the MLP (under 500,000 weights) replicated
bench_case "2 ranks, --sharded-update on: marked, the probe times the sharded step's collectives" \
    '[ "$(num sharded_update)" = 1 ] && awk -v s="$(num probe_step_comm_ms)" -v c="$(num comm)" \
         "BEGIN { exit !(s > 0 && c > 0) }"' \
    -np 2 "$BENCH" --sharded-update on --steps 8 --warmup 1 --json
bench_case "2 ranks, --sharded-update auto (the default): the MLP is not sharded" \
    '[ "$(num sharded_update)" = 0 ]' -np 2 "$BENCH" --steps 4 --warmup 1 --json

# --scaling: the three configurations in one run; every rate positive, the ratios are
# the rates' quotients, and each configuration ran the steps asked for
bench_case "--scaling on 2 ranks: three positive rates, consistent ratios, 25 steps each" \
    '[ "$(num steps)" = 25 ] && [ "$(num ranks)" = 2 ] &&
     awk -v o="$(num one_rank_samples_per_s)" -v a="$(num all_ranks_samples_per_s)" \
         -v n="$(num independent_samples_per_s)" -v s="$(num speedup)" -v c="$(num ceiling_speedup)" \
         "BEGIN { exit !(o > 0 && a > 0 && n > 0 && (s - a / o) ^ 2 < 1e-6 && (c - n / o) ^ 2 < 1e-6) }"' \
    -np 2 "$BENCH" --scaling --steps 25 --json
echo "# --scaling: $(printf '%s\n' "$json" | grep -o '"one_rank_samples_per_s.*"independent_samples_per_s": [0-9.]*')"
i=$((i + 1))
"$MPIRUN" -np 1 "$BENCH" --scaling --independent >"$dir/o" 2>"$dir/e"; got=$?
if [ $got -eq 2 ] && grep -q -- '--scaling already runs' "$dir/e"; then
    echo "ok $i - --scaling with --independent: exit 2 and a message"
else
    echo "not ok $i - --scaling with --independent: got exit $got"; sed 's/^/# /' "$dir/e" | head -5
fi

# tools/scaling (the script that prints the scaling tables from bench runs): strong, weak,
# the MLP sharded (--sharded) and the layouts at 2 cores, every rate positive, efficiency
# per core used (1 x 2 threads once read 152%: the speed-up was divided by the ranks only),
# the strong table's ceiling the independent ranks' rate over one rank's
i=$((i + 1))
SCALING=${SCALING:-$(dirname "$BENCH")/scaling}
if [ ! -x /usr/bin/python3 ]; then
    echo "ok $i - # SKIP tools/scaling needs python3 (tools/setup --tests installs it)"
elif python3 "$SCALING" --ranks 2 --steps 10 --layouts --sharded --json "$dir/sc.json" >"$dir/sc" 2>&1 &&
     [ "$(grep -c '^{' "$dir/sc.json")" -eq 10 ] &&
     [ "$(grep -c '"ranks": 2,.*"sharded_update": 1' "$dir/sc.json")" -eq 1 ] &&
     [ "$(grep -c '"ranks": 2, "threads": 1, "independent": true' "$dir/sc.json")" -eq 2 ] &&
     python3 - "$dir/sc.json" "$dir/sc" <<'PY' &&
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
one = runs[0]["samples_per_s"]
indep = [r for r in runs if r["independent"] and r["batch"] == 256][0]["samples_per_s"]
text = open(sys.argv[2]).read().split("MLP, weak scaling")[0]
line = [l.split() for l in text.splitlines() if l.split()[:3] == ["2", "x", "1"]][0]
sys.exit(abs(float(line[7].rstrip("x")) - indep / one) > 0.006)
PY
     grep -q '^MLP, strong scaling, sharded update' "$dir/sc" &&
     python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(not all(x["samples_per_s"] > 0 for x in r))' "$dir/sc.json" &&
     grep -q '^MLP, strong scaling' "$dir/sc" && grep -q '^MLP, weak scaling' "$dir/sc" &&
     awk '/^ranks x BLIS/ { on = 1 }
          on && $1 == "mlp" && $2 == 1 && $4 == 2 { seen = 1; x = $7; e = $8; sub("x", "", x); sub("%", "", e)
                                                   if ((e - 50 * x) ^ 2 > 1) bad = 1 }
          END { exit !(seen && !bad) }' "$dir/sc"; then
    echo "ok $i - tools/scaling on 2 ranks: strong, weak, sharded and layouts, 10 runs with positive rates (one sharded, two independent), the ceiling from the independent run, 1 x 2's efficiency its speed-up over 2 cores"
else
    echo "not ok $i - tools/scaling on 2 ranks"; sed 's/^/# /' "$dir/sc" | head -30
fi

# the readable table, and a clear usage error
i=$((i + 1))
if "$MPIRUN" -np 1 "$BENCH" --steps 2 --warmup 0 --stack 'sgd / sgd' >"$dir/table" 2>&1 &&
   grep -q 'samples/s' "$dir/table" && grep -q 'GEMM-bound' "$dir/table" &&
   grep -q 'peak RSS' "$dir/table"; then
    echo "ok $i - the table names throughput, GEMM-bound ratio and memory"
else
    echo "not ok $i - table output"; sed 's/^/# /' "$dir/table" | head -20
fi
i=$((i + 1))
"$MPIRUN" -np 1 "$BENCH" --steps 0 >"$dir/o" 2>"$dir/e"; got=$?
if [ $got -eq 2 ] && grep -q -- '--steps needs an integer' "$dir/e"; then
    echo "ok $i - a bad option: exit 2 and a message"
else
    echo "not ok $i - a bad option: got exit $got"; sed 's/^/# /' "$dir/e" | head -5
fi
echo "1..$i"
