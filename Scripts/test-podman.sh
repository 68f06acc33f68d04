#!/usr/bin/env bash
# The live podman end-to-end test (run by Scripts/test.sh): build the image, render
# Topologies/minilm.yaml for podman, play it on its own network, submit 20 sentences from the host
# through `sealpipe submit` and Scripts/client.py and compare them with `sealpipe embed`
# (cosine >= 0.9999), kill one shard's container under load and see it come back with no job lost,
# show that a stage started from an edited topology is refused its keys (check: topology), then
# tear everything down and check nothing is left. Skipped, with the reason, only where podman
# cannot run a container at all.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source Scripts/podman-env.sh
sealpipe_podman_env "$root"

say() { printf '[podman-e2e] %s\n' "$*"; }
fail() { printf '[podman-e2e] FAILED: %s\n' "$*" >&2; exit 1; }

command -v podman >/dev/null || fail "podman is not installed (Scripts/setup.sh installs it)"
image="$(Scripts/image.sh)"
say "image $image"
if ! probe="$(podman run --rm --network none "$image" --version 2>&1)"; then
    say "SKIPPED: podman cannot run a container on this machine: $probe"
    exit 0
fi

# The image holds the binary, its libraries and a passwd file: no weights, no keys, no platform key.
probe_container="$(podman create "$image")"
contents="$(podman export "$probe_container" | tar -t)"
podman rm "$probe_container" >/dev/null
forbidden="$(grep -E '\.(safetensors|sealed|key|pub|sqlite|pem)$|platform|models/' <<<"$contents" || true)"
[ -z "$forbidden" ] || fail "the image holds what it must not: $forbidden"
unexpected="$(grep -vE '^(usr/bin/sealpipe|(usr/)?lib(64|/x86_64-linux-gnu)?/.*|etc/.*|tmp/|var/.*|usr/|usr/bin/|dev/.*|proc/|sys/|run/.*)$' \
    <<<"$contents" || true)"
[ -z "$unexpected" ] || fail "unexpected files in the image: $unexpected"
say "image holds $(wc -l <<<"$contents") paths: the binary, $(grep -c '\.so' <<<"$contents") libraries, /etc/passwd"

sealpipe="$(swift build -c release --show-bin-path)/sealpipe"
work="$root/.build/podman-e2e"
network="sealpipe-e2e-$$"
pod_names=()
cleanup() {
    set +e
    [ -f "$work/out/pipeline.yaml" ] && podman kube down "$work/out/pipeline.yaml" >/dev/null 2>&1
    [ -f "$work/out/broker.yaml" ] && podman kube down "$work/out/broker.yaml" >/dev/null 2>&1
    [ -f "$work/edited.yaml" ] && podman kube down "$work/edited.yaml" >/dev/null 2>&1
    podman network rm -f "$network" >/dev/null 2>&1
}
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$work/platform" "$work/out/state" "$work/out/weights"

# The simulated TEE's platform key belongs to the host (it stands in for the hardware); the pods
# run as user 65532, which must own the key files they read and the directories they write.
"$sealpipe" platform init --out "$work/platform" >/dev/null
chown 65532:65532 "$work/platform/platform.key" "$work/out/state" "$work/out/weights"
chmod 0644 "$work/platform/platform.pub"

"$sealpipe" render podman Topologies/minilm.yaml --image "$image" --out "$work/out" \
    --platform-directory "$work/platform" 2>"$work/render.warnings"
grep -q "NOT confidential" "$work/render.warnings" || fail "the simulated deployment rendered without its warning"

# Name resolution between pods needs a user-created network (the default one has no DNS).
podman network create "$network" >/dev/null
podman kube play --network "$network" "$work/out/broker.yaml" >/dev/null
wait_for_log() { # container, pattern, seconds
    for _ in $(seq 1 $(($3 * 5))); do
        podman logs "$1" 2>&1 | grep -q "$2" && return 0
        sleep 0.2
    done
    podman logs "$1" 2>&1 | tail -20 >&2
    fail "$1 did not log \"$2\" within $3 s"
}
wait_for_log minilm-kms-kms "kms listening" 300
identity="$(podman logs minilm-kms-kms 2>&1 | sed -n 's/^kms listening .* identity \([0-9a-f]*\)$/\1/p' | head -1)"
[ ${#identity} = 64 ] || fail "no broker identity in its log"
say "broker up, identity $identity; shards sealed: $(cd "$work/out/weights" && echo *.sealed)"

podman kube play --network "$network" "$work/out/pipeline.yaml" >/dev/null
for stage in preprocessor shard-0 shard-1 postprocessor; do
    wait_for_log "minilm-$stage-0-$stage" '"event":"ready"' 120
done
say "pipeline up: gateway and four stages attested"

front=tcp://127.0.0.1:5555
kms=tcp://127.0.0.1:5550
python3 - >"$work/lines.jsonl" <<'PY'
import json
subjects = ["A man", "A woman", "The old dog", "A child", "The committee"]
actions = ["plays a guitar on stage.", "reads a book in the park.", "votes on the new budget.", "cooks dinner."]
for i in range(20):
    print(json.dumps({"text": f"{subjects[i % 5]} {actions[i % 4]} ({i})"}))
PY
"$sealpipe" embed --input "$work/lines.jsonl" >"$work/reference.jsonl"
"$sealpipe" submit --allow-simulated --front "$front" --kms "$kms" --kms-key "$identity" --input "$work/lines.jsonl" >"$work/swift.jsonl"
python3 Scripts/client.py --allow-simulated --front "$front" --kms "$kms" --kms-key "$identity" "$work/lines.jsonl" >"$work/python.jsonl"
compare() { # results, [reference]
    python3 - "${2:-$work/reference.jsonl}" "$1" <<'PY'
import json, math, sys
reference = [json.loads(line)["embedding"] for line in open(sys.argv[1])]
got = [json.loads(line)["embedding"] for line in open(sys.argv[2])]
assert len(got) == len(reference), f"{len(got)} results for {len(reference)} sentences"
worst = min(sum(a * b for a, b in zip(x, y)) / math.sqrt(sum(a * a for a in x) * sum(b * b for b in y))
            for x, y in zip(reference, got))
assert worst >= 0.9999, f"lowest cosine {worst}"
print(f"{len(got)} embeddings, lowest cosine to sealpipe embed {worst:.6f}")
PY
}
say "sealpipe submit: $(compare "$work/swift.jsonl")"
say "Scripts/client.py: $(compare "$work/python.jsonl")"

# Kill shard-0's process while jobs are in flight, as a crash would (`podman kill` counts as a
# stop by the user, which no restart policy undoes): podman restarts it (restartPolicy Always),
# it attests again, and the gateway retries its jobs within their deadline.
for _ in $(seq 1 25); do cat "$work/lines.jsonl"; done >"$work/lines500.jsonl"
for _ in $(seq 1 25); do cat "$work/reference.jsonl"; done >"$work/reference500.jsonl"
restarts_before="$(podman inspect --format '{{.RestartCount}}' minilm-shard-0-0-shard-0)"
"$sealpipe" submit --allow-simulated --front "$front" --kms "$kms" --kms-key "$identity" --input "$work/lines500.jsonl" \
    >"$work/killed.jsonl" 2>"$work/killed.err" &
submitter=$!
sleep 0.5
kill -0 "$submitter" 2>/dev/null || fail "the jobs ended before the kill; nothing was tested"
kill -KILL "$(podman inspect --format '{{.State.Pid}}' minilm-shard-0-0-shard-0)"
wait "$submitter" || { cat "$work/killed.err" >&2; fail "jobs were lost when shard-0 was killed"; }
say "under a killed shard: $(compare "$work/killed.jsonl" "$work/reference500.jsonl")"
for _ in $(seq 1 300); do
    [ "$(podman inspect --format '{{.State.Running}} {{.RestartCount}}' minilm-shard-0-0-shard-0)" \
        = "true $((restarts_before + 1))" ] && break
    sleep 0.2
done
[ "$(podman inspect --format '{{.RestartCount}}' minilm-shard-0-0-shard-0)" -gt "$restarts_before" ] \
    || fail "shard-0 did not come back"
say "shard-0 came back (restarts: $(podman inspect --format '{{.RestartCount}}' minilm-shard-0-0-shard-0))"

# A stage pod whose topology was edited (another command line for its role: other batching) is
# refused its keys, and the broker names the check.
sed '/name: postprocessor,/s/maxBatch: 32/maxBatch: 8/' "$work/out/topology.yaml" >"$work/edited-topology.yaml"
cmp -s "$work/out/topology.yaml" "$work/edited-topology.yaml" && fail "the topology edit changed nothing"
sed -e "s|$work/out/topology.yaml|$work/edited-topology.yaml|" -e 's/minilm-postprocessor-0/minilm-edited-0/' \
    "$work/out/pipeline.yaml" | python3 -c '
import sys
documents = sys.stdin.read().split("---\n")
print("---\n" + next(d for d in documents if "minilm-edited-0" in d), end="")' >"$work/edited.yaml"
podman kube play --network "$network" "$work/edited.yaml" >/dev/null
# The broker logs one JSON line per refusal (sampled), naming the check.
wait_for_log minilm-kms-kms '"check":"topology"' 60
podman logs minilm-edited-0-postprocessor 2>&1 | grep -q "topology" || fail "the edited pod's refusal does not name the check"
say "edited topology refused: $(podman logs minilm-kms-kms 2>&1 | grep '"check":"topology"' | tail -1)"
podman kube down "$work/edited.yaml" >/dev/null

podman kube down "$work/out/pipeline.yaml" >/dev/null
podman kube down "$work/out/broker.yaml" >/dev/null
podman network rm "$network" >/dev/null
left="$(podman ps -a --format '{{.Names}}' | grep '^minilm-' || true)"
[ -z "$left" ] || fail "containers left behind: $left"
[ -z "$(podman pod ps --format '{{.Name}}' | grep '^minilm-' || true)" ] || fail "pods left behind"
[ -z "$(podman volume ls --format '{{.Name}}' | grep '^minilm-' || true)" ] || fail "volumes left behind"
trap - EXIT
say "torn down: no pod, container, volume or network left"
