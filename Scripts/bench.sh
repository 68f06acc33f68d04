#!/usr/bin/env bash
# One side-by-side run on the same sentences: the single-process Swift model, the sealed
# pipeline of Topologies/minilm.yaml, the same with two replicas per shard, sentence-transformers
# on PyTorch, ONNX Runtime (fp32, BERT-fused, and its int8 dynamic quantization), the echo
# pipeline's per-hop cost, and attestation and key-release latency with 16 nodes attesting at
# once. Writes the table, with ratios, into docs/benchmarks.md between the "bench.sh" markers
# (and the raw JSON into out/bench/).
#
#   Scripts/bench.sh                    the whole run above
#   Scripts/bench.sh --replicas 1,2,4   only the scaling sweep: the echo pipeline (and minilm, when
#                                       its model files are present) with that many replicas per
#                                       stage, saturated by one `sealpipe loadtest --workers N`;
#                                       throughput and the pipeline's CPU per job (every pipeline
#                                       process's process_cpu_seconds_total, the load generator
#                                       excluded). Ports 5600-5699, metrics 9500-9599.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
say() { printf '[bench] %s\n' "$*" >&2; }

replicas=""
while (($#)); do
    case "$1" in
        --replicas)
            [[ "${2:-}" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench.sh: --replicas takes counts like 1,2,4" >&2; exit 2; }
            replicas="$2"
            shift 2
            ;;
        *) echo "bench.sh: unknown argument $1 (see the comment at the top)" >&2; exit 2 ;;
    esac
done

Scripts/setup.sh >&2
Scripts/fetch-model.sh >&2
say "building sealpipe (release)"
swift build -c release --product sealpipe >&2
bin="$(swift build -c release --show-bin-path)/sealpipe"
out="$root/out/bench"
mkdir -p "$out"
short="$root/Scripts/bench/sentences-short.jsonl"
medium="$root/Scripts/bench/sentences-medium.jsonl"

# A topology argument: a shipped file's name (minilm.yaml), or an absolute path (a moved copy).
topo() { case "$1" in /*) echo "$1" ;; *) echo "Topologies/$1" ;; esac; }
# Launches a topology in a scratch directory and prints the launcher's pid and the directory
# once it is up. Extra arguments prefix the command (an environment change).
launch() {
    local topology="$1" work
    shift
    work="$(mktemp -d -t sealpipe-bench.XXXXXX)"
    mkdir -p "$work/models"
    ln -s "$root/models/all-MiniLM-L6-v2" "$work/models/all-MiniLM-L6-v2"
    ln -s "$root/Topologies" "$work/Topologies"
    (cd "$work" && SEALPIPE_LOG_LEVEL=error exec "$@" "$bin" launch "$(topo "$topology")" >"$work/launch.log" 2>&1) &
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
    # The shipped topologies run on the simulated TEE, which clients refuse unless allowed.
    (cd "$work" && "$bin" loadtest --topology "$(topo "$topology")" --allow-simulated "$@" 2>/dev/null)
}
# Closed loop with 128 jobs in flight: enough for every stage to batch fully. Also records each
# service's CPU seconds before and after, for the cost of a job by service.
sustained() {  # work dir, topology, json name
    local before after
    before="$(cd "$1" && python3 "$root/Scripts/bench/cpu_seconds.py" "$bin" "$(topo "$2")" --by-service)"
    loadtest "$1" "$2" --input "$short" --concurrency 128 --requests 4096 --warm-up 3 --json "$out/$3.json" >&2
    after="$(cd "$1" && python3 "$root/Scripts/bench/cpu_seconds.py" "$bin" "$(topo "$2")" --by-service)"
    echo "{\"before\": $before, \"after\": $after}" >"$out/$3-cpu.json"
}

# Scaling: each replica count, echo then minilm, on ports of their own; one load generator
# with a worker per core keeps 256 jobs in flight. The pipeline's CPU per job is every pipeline
# process's CPU time (broker, gateway, every replica) over the measured jobs, read from their
# metrics before and after the measured run (the warm-up run before it is not counted).
if [ -n "$replicas" ]; then
    workers="$(nproc)"
    scratch="$(mktemp -d -t sealpipe-scaling.XXXXXX)"
    pipelines=(echo)
    [ -f "$root/models/all-MiniLM-L6-v2/model.safetensors" ] && pipelines+=(minilm)
    rm -f "$out"/scaling-*.json
    for pipeline in "${pipelines[@]}"; do
        for count in ${replicas//,/ }; do
            moved="$scratch/$pipeline-$count.yaml"
            python3 Scripts/bench/move_topology.py "Topologies/$pipeline.yaml" "$moved" --ports 5600 --metrics 9500 \
                --replicas "$count" --name "$pipeline-x$count"
            say "scaling: $pipeline, $count replica(s) per stage, $workers load workers, 256 in flight"
            read -r pid work < <(launch "$moved")
            requests=$([ "$pipeline" = echo ] && echo 20000 || echo 3000)
            loadtest "$work" "$moved" --input "$short" --concurrency 256 --workers "$workers" --requests 1000 --warm-up 0 >/dev/null
            before="$(cd "$work" && python3 "$root/Scripts/bench/cpu_seconds.py" "$bin" "$moved")"
            loadtest "$work" "$moved" --input "$short" --concurrency 256 --workers "$workers" --requests "$requests" \
                --warm-up 0 --json "$out/scaling-$pipeline-$count.json" >&2
            after="$(cd "$work" && python3 "$root/Scripts/bench/cpu_seconds.py" "$bin" "$moved")"
            python3 - "$out/scaling-$pipeline-$count.json" "$before" "$after" "$count" "$pipeline" <<'PY'
import json, sys
path, before, after, count, pipeline = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
report = json.load(open(path))
report.update(pipeline=pipeline, replicas=count, pipeline_cpu_seconds=after - before)
json.dump(report, open(path, "w"), indent=2)
PY
            stop "$pid"
        done
    done
    rm -rf "$scratch"
    python3 - "$out" "$replicas" "$(nproc)" "$(uptime)" <<'PY'
import json, os, sys
out, counts, cores, load = sys.argv[1], [int(c) for c in sys.argv[2].split(",")], sys.argv[3], sys.argv[4]
lines = [f"Scaling (`Scripts/bench.sh --replicas {sys.argv[2]}`, {cores} cores; load: `{load.strip()}`): "
         "closed loop, 256 in flight, short sentences; CPU per job = every pipeline process's "
         "process_cpu_seconds_total over the measured jobs, the load generator excluded.", "",
         "| pipeline | replicas per stage | jobs/s | p50 ms | p99 ms | pipeline CPU ms per job | load generator CPU ms per job |",
         "|---|---|---|---|---|---|---|"]
for pipeline in ("echo", "minilm"):
    for count in counts:
        path = f"{out}/scaling-{pipeline}-{count}.json"
        if not os.path.exists(path):
            continue
        r = json.load(open(path))
        jobs = max(r["results"], 1)
        lines.append(f"| {pipeline} | {count} | {r['throughput_per_s']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                     f"{r['pipeline_cpu_seconds'] * 1e3 / jobs:.3f} | {r['client_cpu_seconds'] * 1e3 / max(r['total_sent'], 1):.3f} |")
text = "\n".join(lines)
open(f"{out}/scaling.md", "w").write(text + "\n")
print(text)
PY
    exit 0
fi

# This environment may pin OpenBLAS to an older kernel (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE)
# because some OpenBLAS builds misbehave on its CPUs. Every figure is first taken as set; where
# a pin is present, the model and the pipeline are measured again with OpenBLAS's own kernel
# choice (both variables unset for those commands alone), after checking that this kernel
# reproduces the reference outputs.
pinned="${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:-}"
native=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
rm -f "$out"/*.json "$out"/*.txt

say "1/6 single-process Swift model (OpenBLAS core ${OPENBLAS_CORETYPE:-chosen by OpenBLAS})"
"$bin" bench model --short "$short" --medium "$medium" --json "$out/swift-model.json" >&2
if [ -n "$pinned" ]; then
    say "    again with OpenBLAS's own kernel choice, after a reference check with it"
    "${native[@]}" python3 Scripts/bench/check_reference.py "$bin" | tee "$out/native-reference.txt" >&2
    "${native[@]}" "$bin" bench model --short "$short" --medium "$medium" --json "$out/swift-model-native.json" >&2
fi
# The engine's int8 path, where this build has one (`bench model --precision int8`).
# (The help is read whole first: with pipefail, grep -q closing the pipe early could fail the test.)
model_help="$("$bin" bench model --help 2>&1)"
if grep -q -- '--precision' <<<"$model_help"; then
    say "    the engine's int8 path (--precision int8)"
    "$bin" bench model --precision int8 --short "$short" --medium "$medium" --json "$out/swift-model-int8.json" >&2
else
    say "    no int8 column: this sealpipe's \`bench model\` has no --precision flag"
fi
say "2/6 sentence-transformers on PyTorch, then ONNX Runtime (fp32 BERT-fused, and int8 dynamic quantization)"
Scripts/bench/pytorch_bench.sh --threads 2 --json "$out/pytorch.json" >&2
Scripts/bench/ort_bench.sh --threads 2 --json "$out/ort.json" >&2 \
    || say "    ONNX Runtime anchors failed (see above); their rows are left out"

say "3/6 sealed pipeline, Topologies/minilm.yaml (closed loop, 128 in flight, short sentences)"
read -r pid work < <(launch minilm.yaml)
sustained "$work" minilm.yaml pipeline
rate="$(python3 -c "import json; print(round(json.load(open('$out/pipeline.json'))['throughput_per_s'] / 2, 1))")"
say "    open loop at half the sustained rate ($rate jobs/s) for p99/p50"
loadtest "$work" minilm.yaml --input "$short" --rate "$rate" --duration 20 --warm-up 3 --json "$out/pipeline-half.json" --html "$out/pipeline-half.html" >&2
say "    trust latency: 16 nodes attesting at once to the pipeline's key broker, 10 rounds each"
(cd "$work" && "$bin" bench attest --topology Topologies/minilm.yaml --nodes 16 --rounds 10 --json "$out/attest.json" 2>/dev/null) >&2
stop "$pid"
if [ -n "$pinned" ]; then
    say "    again with OpenBLAS's own kernel choice"
    read -r pid work < <(launch minilm.yaml "${native[@]}")
    sustained "$work" minilm.yaml pipeline-native
    stop "$pid"
fi

say "4/6 sealed pipeline with two replicas per shard, Topologies/minilm-replicas.yaml"
read -r pid work < <(launch minilm-replicas.yaml)
sustained "$work" minilm-replicas.yaml replicas
stop "$pid"

say "5/6 echo pipeline: CPU of the gateway and every stage per job, under load"
read -r pid work < <(launch echo.yaml)
loadtest "$work" echo.yaml --input "$short" --concurrency 128 --requests 2000 --warm-up 1 >/dev/null
before="$(cd "$work" && python3 "$root/Scripts/bench/cpu_seconds.py" "$bin" Topologies/echo.yaml)"
loadtest "$work" echo.yaml --input "$short" --concurrency 128 --requests 8000 --warm-up 0 --json "$out/echo.json" >&2
after="$(cd "$work" && python3 "$root/Scripts/bench/cpu_seconds.py" "$bin" Topologies/echo.yaml)"
echo "{\"cpu_seconds\": $(python3 -c "print($after - $before)"), \"hops_per_job\": 5}" >"$out/echo-cpu.json"
stop "$pid"

say "6/6 one hop next to one seal + open (CPU time), at the echo payload, one embedding, and 46 tokens of hidden states"
payload="$(python3 -c "import json; t=[len(json.loads(l)['text'].encode()) for l in open('$short')]; print(round(sum(t) / len(t)))")"
"$bin" bench hop --payload "$payload" --json "$out/hop-echo.json" >&2
"$bin" bench hop --payload 1536 --json "$out/hop-small.json" >&2
"$bin" bench hop --payload 67584 --iterations 1000 --json "$out/hop-large.json" >&2

python3 - "$out" "$root/docs/benchmarks.md" "$(uptime)" <<'PY'
import json, os, sys, datetime
out, doc, load = sys.argv[1], sys.argv[2], sys.argv[3]
j = lambda name: json.load(open(f"{out}/{name}.json"))
has = lambda name: os.path.exists(f"{out}/{name}.json")
torch = j("pytorch")
torch32 = torch["short"]["32"]
def model32(report):
    return next(t["sentencesPerSecond"] for t in report["throughput"] if t["set"] == "short" and t["batchSize"] == 32)

def table(title, model, pipelines):
    m = model32(model)
    lines = [f"| {title} | sentences/s | against the model | against PyTorch |", "|---|---|---|---|",
             f"| single-process Swift model, batch 32 | {m:.1f} | 1.00× | {m / torch32:.2f}× |"]
    for name, report in pipelines:
        v = report["throughput_per_s"]
        lines.append(f"| {name} | {v:.1f} | **{v / m:.2f}×** (target ≥ 0.85) | **{v / torch32:.2f}×** (target ≥ 1.0) |")
    return lines

swift = j("swift-model")
native = j("swift-model-native") if has("swift-model-native") else None
lines = ["<!-- bench.sh: begin -->",
         f"Run of `Scripts/bench.sh` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; load: `{load.strip()}`.", "",
         "**The model alone** (issue 3): sentences/s, best of 5 timed passes, 2 threads each; Swift against "
         f"sentence-transformers {torch['sentence_transformers_version']} on torch {torch['torch_version']}.", ""]
def engine_name(report):
    """The engine as it ran: its fp32 linear layers' kernel (oneDNN packed, or OpenBLAS), and the
    OpenBLAS core that runs the attention products either way."""
    kernel = report["throughput"][0].get("matrixKernel", "OpenBLAS")
    return f"Swift fp32, {kernel}, OpenBLAS {report['blasCore']}" if not kernel.startswith("OpenBLAS") else f"Swift, {kernel}"
engines = [(engine_name(swift), swift)] + ([(engine_name(native), native)] if native else [])
lines += ["| set | batch | " + " | ".join(name for name, _ in engines) + " | PyTorch | " + " | ".join(f"ratio ({name})" if len(engines) > 1 else "ratio" for name, _ in engines) + " |",
          "|---|---|" + "---|" * (2 * len(engines) + 1)]
for set_name in ("short", "medium"):
    for batch in (1, 8, 32):
        values = [next(t["sentencesPerSecond"] for t in r["throughput"] if t["set"] == set_name and t["batchSize"] == batch) for _, r in engines]
        reference = torch[set_name][str(batch)]
        lines.append(f"| {set_name} | {batch} | " + " | ".join(f"{v:.1f}" for v in values) + f" | {reference:.1f} | "
                     + " | ".join(f"**{v / reference:.2f}×**" if batch == 32 else f"{v / reference:.2f}×" for v in values) + " |")
lines += ["", "| single-sentence latency, p50 | " + " | ".join(name for name, _ in engines) + " | PyTorch |", "|---|" + "---|" * (len(engines) + 1)]
for set_name in ("short", "medium"):
    values = [next(l["p50Milliseconds"] for l in r["latency"] if l["set"] == set_name) for _, r in engines]
    lines.append(f"| {set_name} | " + " | ".join(f"{v:.2f} ms" for v in values) + f" | {torch['latency_ms'][set_name]['p50']:.2f} ms |")
if has("ort"):
    ort = j("ort")
    int8 = j("swift-model-int8") if has("swift-model-int8") else None
    def rate(report, set_name):
        return next(t["sentencesPerSecond"] for t in report["throughput"] if t["set"] == set_name and t["batchSize"] == 32)
    # The engine's columns: each Swift measurement of this run, then its int8 path when it has one.
    mine = [(name, {s: rate(r, s) for s in ("short", "medium")}) for name, r in engines]
    if int8:
        kernel = int8["throughput"][0].get("matrixKernel", "oneDNN")
        mine.append((f"Swift int8, {kernel}", {s: rate(int8, s) for s in ("short", "medium")}))
    anchors = [(name, {s: float(v[s]["32"]) for s in ("short", "medium")}, v) for name, v in
               ((f"ONNX Runtime {ort['onnxruntime_version']} fp32 (BERT-fused)", ort["variants"]["fp32"]),
                (f"ONNX Runtime {ort['onnxruntime_version']} int8 (dynamic, per-channel)", ort["variants"]["int8"]))]
    lines += ["", f"**Against ONNX Runtime** (issue 15): batch 32, sentences/s, same sets, 2 intra-op threads; the ONNX "
              "model exported from the local files with `torch.onnx`, fused by `onnxruntime.transformers.optimizer` "
              "(bert), tokenization and mean pooling inside the timing (`Scripts/bench/ort_bench.py`). "
              + ("" if int8 else "No engine int8 column: this build's `sealpipe bench model` has no `--precision`. ")
              + "Ratios are the engine's rate over the row's.", "",
              "| engine | short | medium | " + " | ".join(f"{name}: short, medium" for name, _ in mine) + " |",
              "|---|---|---|" + "---|" * len(mine)]
    for name, values in mine:
        lines.append(f"| {name} | {values['short']:.1f} | {values['medium']:.1f} |" + " |" * len(mine))
    lines.append(f"| PyTorch (sentence-transformers) | {torch['short']['32']:.1f} | {torch['medium']['32']:.1f} | "
                 + " | ".join(f"{v['short'] / torch['short']['32']:.2f}×, {v['medium'] / torch['medium']['32']:.2f}×"
                              for _, v in mine) + " |")
    for name, values, variant in anchors:
        lines.append(f"| {name}, worst cosine to the fixture {variant['worst_cosine_to_reference']:.4f} | "
                     f"{values['short']:.1f} | {values['medium']:.1f} | "
                     + " | ".join(f"**{v['short'] / values['short']:.2f}×**, **{v['medium'] / values['medium']:.2f}×**"
                                  for _, v in mine) + " |")
    lines += ["", "| single-sentence latency, p50 | short | medium |", "|---|---|---|"]
    for name, _, variant in anchors:
        lines.append(f"| {name} | {variant['latency_ms']['short']['p50']:.2f} ms | {variant['latency_ms']['medium']['p50']:.2f} ms |")
lines += ["", "**The sealed pipeline** (issue 6), short sentences, batch 32 for the model and PyTorch "
          f"(PyTorch: **{torch32:.1f}** sentences/s):", ""]
lines += table(f"{engine_name(swift)} (OpenBLAS as this environment sets it)", swift,
               [("sealed pipeline (minilm.yaml), 128 in flight", j("pipeline")),
                ("sealed pipeline, 2 replicas per shard", j("replicas"))])
if native:
    check = open(f"{out}/native-reference.txt").read().strip()
    lines += ["", f"With OpenBLAS's own kernel choice (`OPENBLAS_CORETYPE`/`OPENBLAS_L2_SIZE` unset for these commands "
              f"alone) it runs **{native['blasCore']}**; {check}.", ""]
    lines += table(f"{engine_name(native)} (OpenBLAS's own choice)", native,
                   [("sealed pipeline (minilm.yaml), 128 in flight", j("pipeline-native"))])
def breakdown(name):
    """CPU milliseconds per job by service, the load generator included (warm-up jobs too)."""
    run, cpu = j(name), j(f"{name}-cpu")
    jobs = run["total_sent"]
    costs = {service: (cpu["after"][service] - cpu["before"][service]) * 1e3 / jobs for service in cpu["after"]}
    costs["load generator (sealpipe loadtest)"] = run["client_cpu_seconds"] * 1e3 / jobs
    return costs

half = j("pipeline-half")
costs = breakdown("pipeline")
total = sum(costs.values())
lines += ["", f"Where a job's CPU time goes in the sealed pipeline ({engine_name(swift)}; both cores are busy, so "
          f"throughput ≈ 2 cores ÷ {total:.2f} ms = {2000 / total:.0f} jobs/s; the single-process model spends "
          f"2 cores ÷ {model32(swift):.0f}/s = {2000 / model32(swift):.2f} ms per sentence):", "",
          "| service | CPU ms per job | share |", "|---|---|---|"]
lines += [f"| {service} | {ms:.3f} | {ms / total:.0%} |" for service, ms in sorted(costs.items(), key=lambda kv: -kv[1]) if ms >= 0.0005]
lines += [f"| all | {total:.3f} | |"]
lines += ["", f"At half the sustained rate ({half['target_rate_per_s']:.1f} jobs/s, open loop): p50 {half['p50_ms']:.1f} ms, "
          f"p99 {half['p99_ms']:.1f} ms — p99/p50 = **{half['p99_ms'] / max(half['p50_ms'], 1e-9):.2f}** (target ≤ 3).", ""]
if has("attest"):
    a = j("attest")
    lines += [f"Trust latency: {a['nodes']} nodes attesting at once to the key broker of minilm.yaml, {a['rounds']} "
              f"rounds each ({a['attestations']} attestations, {', '.join(a['evidenceKinds'])} evidence; "
              f"`sealpipe bench attest --topology Topologies/minilm.yaml --nodes {a['nodes']} --rounds {a['rounds']}`). "
              "EphemeralML publishes its figures on AWS Nitro for context (a hardware TEE, one node):", "",
              "| | p50 | p99 | EphemeralML (AWS Nitro) |", "|---|---|---|---|",
              f"| attestation (asking for a nonce → keys held) | {a['attestationP50Milliseconds']:.1f} ms | "
              f"{a['attestationP99Milliseconds']:.1f} ms | 277 ms |",
              f"| key release (evidence presented → keys held) | {a['keyReleaseP50Milliseconds']:.1f} ms | "
              f"{a['keyReleaseP99Milliseconds']:.1f} ms | 79 ms |", ""]
echo, cpu = j("echo"), j("echo-cpu")
he, hs, hl = j("hop-echo"), j("hop-small"), j("hop-large")
per_hop = cpu["cpu_seconds"] / echo["results"] / cpu["hops_per_job"] * 1e6
lines += [f"Echo pipeline under load (128 in flight, {echo['results']} jobs, {echo['throughput_per_s']:.0f} jobs/s): the gateway and "
          f"the four stages spent {cpu['cpu_seconds']:.2f} CPU seconds, **{per_hop:.0f} µs per job per hop** over "
          f"{cpu['hops_per_job']} hops, against one seal + open of the same payload ({he['payloadBytes']} B) at "
          f"{he['sealOpenMicroseconds']:.0f} µs: **{per_hop / he['sealOpenMicroseconds']:.2f}×** (target ≤ 2×).", "",
          "One hop carrying a single job (seal, sign, send, receive, verify, open; CPU time, streamed) against one seal + open:", "",
          "| payload | seal + open | hop | ratio | one hop at a time (wall) |", "|---|---|---|---|---|"]
for label, h in ((f"{he['payloadBytes']} B (echo request)", he), ("1.5 KB (one embedding)", hs), ("66 KB (46 tokens of hidden states)", hl)):
    lines.append(f"| {label} | {h['sealOpenMicroseconds']:.0f} µs | {h['hopMicroseconds']:.0f} µs | **{h['ratio']:.2f}×** | {h['hopLatencyMicroseconds']:.0f} µs |")
lines.append("<!-- bench.sh: end -->")
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
