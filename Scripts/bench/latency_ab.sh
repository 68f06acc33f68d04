#!/usr/bin/env bash
# One-sentence latency of the sealed pipeline at a low rate, for two sealpipe binaries side by
# side in one run (e.g. before and after a change): Topologies/minilm.yaml moved to ports
# 5600-5699 and metrics 9500-9599, launched by each binary in turn, ROUNDS times alternating, and
# driven open loop by the second binary's `sealpipe loadtest --rate RATE` (one client for both,
# so only the pipeline differs). Prints p50/p90/p99 per run, and the pipeline's CPU per job
# (every pipeline process's process_cpu_seconds_total over the run, load generator excluded),
# which a shared machine disturbs less than wall time. The after-binary's runs add --trace.
#
# usage: Scripts/bench/latency_ab.sh BEFORE_BINARY AFTER_BINARY [RATE] [SECONDS] [ROUNDS]
#   writes out/bench/latency-ab.json and prints a Markdown table
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
before_bin="$(realpath "$1")" after_bin="$(realpath "$2")" rate="${3:-5}" seconds="${4:-20}" rounds="${5:-2}"
out="$root/out/bench"
mkdir -p "$out"
short="$root/Scripts/bench/sentences-short.jsonl"
say() { printf '[latency] %s\n' "$*" >&2; }

scratch="$(mktemp -d -t sealpipe-latency.XXXXXX)"
python3 Scripts/bench/move_topology.py Topologies/minilm.yaml "$scratch/minilm.yaml" --ports 5600 --metrics 9500

run() {  # label binary
    local label="$1" bin="$2" work pid trace=()
    work="$(mktemp -d -p "$scratch")"
    mkdir -p "$work/models"
    ln -s "$root/models/all-MiniLM-L6-v2" "$work/models/all-MiniLM-L6-v2"
    (cd "$work" && SEALPIPE_LOG_LEVEL=error exec "$bin" launch "$scratch/minilm.yaml" >"$work/launch.log" 2>&1) &
    pid=$!
    for _ in $(seq 1 600); do grep -q '"service":"launch"' "$work/launch.log" 2>/dev/null && break; sleep 0.2; done
    grep -q '"service":"launch"' "$work/launch.log" || { cat "$work/launch.log" >&2; kill -TERM "$pid"; exit 1; }
    [ "$label" = after ] && trace=(--trace)
    local cpu_before cpu_after
    cpu_before="$(cd "$work" && python3 "$root/Scripts/bench/cpu_seconds.py" "$after_bin" "$scratch/minilm.yaml")"
    (cd "$work" && "$after_bin" loadtest --topology "$scratch/minilm.yaml" --allow-simulated --input "$short" \
        --rate "$rate" --duration "$seconds" --warm-up 2 --workers 1 "${trace[@]}" \
        --json "$work/run.json" 2>/dev/null) >&2
    cpu_after="$(cd "$work" && python3 "$root/Scripts/bench/cpu_seconds.py" "$after_bin" "$scratch/minilm.yaml")"
    python3 - "$work/run.json" "$label" "$cpu_before" "$cpu_after" >>"$scratch/runs.jsonl" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
run.update(label=sys.argv[2], pipeline_cpu_seconds=float(sys.argv[4]) - float(sys.argv[3]))
print(json.dumps(run))
PY
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

for round in $(seq 1 "$rounds"); do
    say "round $round: before ($before_bin)"
    run before "$before_bin"
    say "round $round: after ($after_bin)"
    run after "$after_bin"
done
python3 - "$scratch/runs.jsonl" "$out/latency-ab.json" "$rate" "$(uptime)" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
json.dump(runs, open(sys.argv[2], "w"), indent=2)
print(f"open loop at {sys.argv[3]} jobs/s, short sentences; load: `{sys.argv[4].strip()}`\n")
print("| run | binary | jobs | p50 ms | p90 ms | p99 ms | pipeline CPU ms per job |")
print("|---|---|---|---|---|---|---|")
for index, r in enumerate(runs):
    jobs = max(r["total_sent"], 1)
    print(f"| {index // 2 + 1} | {r['label']} | {r['results']} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | "
          f"{r['p99_ms']:.1f} | {r['pipeline_cpu_seconds'] * 1e3 / jobs:.2f} |")
PY
rm -rf "$scratch"
