#!/usr/bin/env bash
# One side-by-side run on the same sentences: the single-process Swift model, the sealed
# pipeline of Topologies/minilm.yaml, the same with two replicas per shard, sentence-transformers
# on PyTorch, and the echo pipeline's per-hop cost. Writes the table, with ratios, into
# docs/benchmarks.md between the "bench.sh" markers (and the raw JSON into out/bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
say() { printf '[bench] %s\n' "$*" >&2; }

Scripts/setup.sh >&2
Scripts/fetch-model.sh >&2
say "building sealpipe (release)"
swift build -c release --product sealpipe >&2
bin="$(swift build -c release --show-bin-path)/sealpipe"
out="$root/out/bench"
mkdir -p "$out"
short="$root/Scripts/bench/sentences-short.jsonl"
medium="$root/Scripts/bench/sentences-medium.jsonl"

say "1/5 single-process Swift model"
"$bin" bench model --short "$short" --medium "$medium" --json "$out/swift-model.json" >&2
say "2/5 sentence-transformers on PyTorch"
Scripts/bench/pytorch_bench.sh --threads 2 --json "$out/pytorch.json" >&2

# Launches a topology in a scratch directory and prints the launcher's pid once it is up.
launch() {
    local topology="$1" work
    work="$(mktemp -d -t sealpipe-bench.XXXXXX)"
    mkdir -p "$work/models"
    ln -s "$root/models/all-MiniLM-L6-v2" "$work/models/all-MiniLM-L6-v2"
    ln -s "$root/Topologies" "$work/Topologies"
    (cd "$work" && SEALPIPE_LOG_LEVEL=error exec "$bin" launch "Topologies/$topology" >"$work/launch.log" 2>&1) &
    local pid=$!
    for _ in $(seq 1 600); do grep -q '"service":"launch"' "$work/launch.log" 2>/dev/null && break; sleep 0.2; done
    grep -q '"service":"launch"' "$work/launch.log" || { cat "$work/launch.log" >&2; exit 1; }
    echo "$pid $work"
}
stop() {  # SIGTERM drains the launcher; it is not this shell's child (process substitution), so poll.
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}
loadtest() {  # work dir, topology, extra args...
    local work="$1" topology="$2"
    shift 2
    (cd "$work" && "$bin" loadtest --topology "Topologies/$topology" "$@" 2>/dev/null)
}

say "3/5 sealed pipeline, Topologies/minilm.yaml (closed loop, 64 in flight, short sentences)"
read -r pid work < <(launch minilm.yaml)
loadtest "$work" minilm.yaml --input "$short" --concurrency 64 --requests 1024 --warm-up 3 --json "$out/pipeline.json" >&2
rate="$(python3 -c "import json; print(round(json.load(open('$out/pipeline.json'))['throughput_per_s'] / 2, 1))")"
say "    open loop at half the sustained rate ($rate jobs/s) for p99/p50"
loadtest "$work" minilm.yaml --input "$short" --rate "$rate" --duration 20 --warm-up 3 --json "$out/pipeline-half.json" --html "$out/pipeline-half.html" >&2
stop "$pid"

say "4/5 sealed pipeline with two replicas per shard, Topologies/minilm-replicas.yaml"
read -r pid work < <(launch minilm-replicas.yaml)
loadtest "$work" minilm-replicas.yaml --input "$short" --concurrency 64 --requests 1024 --warm-up 3 --json "$out/replicas.json" >&2
stop "$pid"

say "5/5 echo pipeline per hop, and one hop next to one seal + open"
read -r pid work < <(launch echo.yaml)
loadtest "$work" echo.yaml --concurrency 1 --requests 500 --warm-up 1 --json "$out/echo.json" >&2
stop "$pid"
"$bin" bench hop --payload 1536 --json "$out/hop-small.json" >&2
"$bin" bench hop --payload 67584 --iterations 500 --json "$out/hop-large.json" >&2

python3 - "$out" "$root/docs/benchmarks.md" "$(uptime)" <<'PY'
import json, sys, datetime
out, doc, load = sys.argv[1], sys.argv[2], sys.argv[3]
j = lambda name: json.load(open(f"{out}/{name}.json"))
swift, torch, pipe, half, rep, echo = j("swift-model"), j("pytorch"), j("pipeline"), j("pipeline-half"), j("replicas"), j("echo")
hs, hl = j("hop-small"), j("hop-large")
model32 = next(t["sentencesPerSecond"] for t in swift["throughput"] if t["set"] == "short" and t["batchSize"] == 32)
torch32 = torch["short"]["32"]
rows = [
    ("single-process Swift model, batch 32", model32, "1.00×"),
    ("sentence-transformers on PyTorch, batch 32", torch32, f"{torch32 / model32:.2f}×"),
    ("sealed pipeline (minilm.yaml), 64 in flight", pipe["throughput_per_s"], f"{pipe['throughput_per_s'] / model32:.2f}× model, {pipe['throughput_per_s'] / torch32:.2f}× PyTorch"),
    ("sealed pipeline, 2 replicas per shard", rep["throughput_per_s"], f"{rep['throughput_per_s'] / model32:.2f}× model, {rep['throughput_per_s'] / torch32:.2f}× PyTorch"),
]
lines = ["<!-- bench.sh: begin -->", f"Run of `Scripts/bench.sh` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; load: `{load.strip()}`.", "",
         "| short sentences (14 tokens) | sentences/s | ratio |", "|---|---|---|"]
lines += [f"| {name} | {value:.1f} | {ratio} |" for name, value, ratio in rows]
lines += ["", f"At half the sustained rate ({half['target_rate_per_s']:.1f} jobs/s, open loop): p50 {half['p50_ms']:.1f} ms, "
          f"p99 {half['p99_ms']:.1f} ms — p99/p50 = {half['p99_ms'] / max(half['p50_ms'], 1e-9):.2f} (target ≤ 3).", "",
          f"Echo pipeline, one job at a time through 4 stages: p50 {echo['p50_ms']:.2f} ms per job.",
          f"One hop (seal, sign, send, receive, verify, open) against one seal + open, same run: "
          f"{hs['hopMicroseconds']:.0f} vs {hs['sealOpenMicroseconds']:.0f} µs = {hs['ratio']:.2f}× at 1.5 KB; "
          f"{hl['hopMicroseconds']:.0f} vs {hl['sealOpenMicroseconds']:.0f} µs = {hl['ratio']:.2f}× at 66 KB (target ≤ 2×).",
          "<!-- bench.sh: end -->"]
text = open(doc).read()
block = "\n".join(lines)
if "<!-- bench.sh: begin -->" in text:
    start, end = text.index("<!-- bench.sh: begin -->"), text.index("<!-- bench.sh: end -->") + len("<!-- bench.sh: end -->")
    text = text[:start] + block + text[end:]
else:
    text += "\n## Side by side (`Scripts/bench.sh`)\n\n" + block + "\n"
open(doc, "w").write(text)
print(block)
PY
