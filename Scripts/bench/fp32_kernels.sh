#!/usr/bin/env bash
# fp32 on oneDNN (weights packed once, the default) against fp32 on OpenBLAS, side by side in one
# run: `sealpipe bench model` with SEALPIPE_FP32_KERNEL=openblas and =onednn, alternating, ROUNDS
# times, on the same sentences. Prints one Markdown table of sentences per second and
# single-sentence latency (the best of the rounds, and the median).
#
# usage: Scripts/bench/fp32_kernels.sh [ROUNDS] [THREADS] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}" threads="${2:-$(nproc)}"
binary="${3:-$(swift build -c release --show-bin-path)/sealpipe}"
[ -x "$binary" ] || { echo "fp32_kernels: no sealpipe at $binary (swift build -c release)" >&2; exit 2; }
scratch="$(mktemp -d -t sealpipe-fp32.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
for round in $(seq 1 "$rounds"); do
    for kernel in openblas onednn; do
        echo "[fp32] round $round: $kernel" >&2
        SEALPIPE_FP32_KERNEL=$kernel "$binary" bench model --short Scripts/bench/sentences-short.jsonl \
            --medium Scripts/bench/sentences-medium.jsonl --threads "$threads" --batches 1,8,32 --sentences 256 \
            --repeats 3 --samples 100 --json "$scratch/$kernel-$round.json" >/dev/null 2>&1
    done
done
python3 - "$scratch" "$rounds" "$threads" "$(uptime)" <<'PY'
import json, statistics, sys
scratch, rounds, threads, load = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].strip()
def runs(kernel):
    return [json.load(open(f"{scratch}/{kernel}-{r}.json")) for r in range(1, rounds + 1)]
def throughput(run):
    return {(t["set"], t["batchSize"]): t["sentencesPerSecond"] for t in run["throughput"]}
def latency(run):
    return {l["set"]: l["p50Milliseconds"] for l in run["latency"]}
blas, dnnl = runs("openblas"), runs("onednn")
print(f"{threads} thread(s), {rounds} alternating rounds; load: `{load}`\n")
print("| set | batch | OpenBLAS sentences/s (best, median) | oneDNN packed (best, median) | oneDNN ÷ OpenBLAS (best) |")
print("|---|---|---|---|---|")
for key in sorted(throughput(blas[0])):
    b = [throughput(r)[key] for r in blas]
    d = [throughput(r)[key] for r in dnnl]
    print(f"| {key[0]} | {key[1]} | {max(b):.1f}, {statistics.median(b):.1f} | {max(d):.1f}, {statistics.median(d):.1f} "
          f"| {max(d) / max(b):.2f}× |")
print("\n| set | OpenBLAS single-sentence p50 ms (best) | oneDNN packed (best) |")
print("|---|---|---|")
for key in sorted(latency(blas[0])):
    print(f"| {key} | {min(latency(r)[key] for r in blas):.2f} | {min(latency(r)[key] for r in dnnl):.2f} |")
PY
