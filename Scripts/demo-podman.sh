#!/usr/bin/env bash
# The podman path end to end for an operator: set up, build the image, render
# Topologies/minilm.yaml for `podman kube play`, bring the broker and then the pipeline up on a
# podman network of its own, submit sentences from the host (Swift and Python clients), and take
# everything down. State stays in deploy/podman/ (the broker's root key and sealed shards), so a
# second run reuses it. docs/deploy.md explains every piece.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

say() { printf '\n== %s\n' "$*"; }

say "set-up (Debian packages incl. podman, pip) and the model files"
Scripts/setup.sh
Scripts/fetch-model.sh
source Scripts/podman-env.sh
sealpipe_podman_env "$root"

say "image (FROM scratch: the sealpipe binary and the libraries it needs; no weights, no keys)"
image="$(Scripts/image.sh)"
echo "$image"
sealpipe="$(swift build -c release --show-bin-path)/sealpipe"

out="$root/deploy/podman"
platform="$root/.sealpipe/podman-platform"
say "render Topologies/minilm.yaml for podman into $out"
if [ ! -f "$platform/platform.key" ]; then
    # The simulated TEE's platform key stands in for this host's hardware: it stays on the host.
    "$sealpipe" platform init --out "$platform"
fi
mkdir -p "$out/state" "$out/weights"
# The pods run as user 65532: it owns what they read as secret and the directories they write.
chown 65532:65532 "$platform/platform.key" "$out/state" "$out/weights"
"$sealpipe" render podman Topologies/minilm.yaml --image "$image" --out "$out" --platform-directory "$platform"

network=sealpipe-demo
cleanup() {
    podman kube down "$out/pipeline.yaml" >/dev/null 2>&1 || true
    podman kube down "$out/broker.yaml" >/dev/null 2>&1 || true
    podman network rm -f "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

say "the key broker first: it makes its root key and seals the shards into $out/weights"
podman network create "$network" >/dev/null
podman kube play --network "$network" "$out/broker.yaml"
for _ in $(seq 1 1500); do podman logs minilm-kms-kms 2>&1 | grep -q "kms listening" && break; sleep 0.2; done
identity="$(podman logs minilm-kms-kms 2>&1 | sed -n 's/^kms listening .* identity \([0-9a-f]*\)$/\1/p' | head -1)"
[ -n "$identity" ] || { podman logs minilm-kms-kms; echo "the broker did not come up" >&2; exit 1; }
echo "key broker identity (pin it in clients): $identity"

say "then the gateway and the stages: each attests and gets its keys"
podman kube play --network "$network" "$out/pipeline.yaml"
for stage in preprocessor shard-0 shard-1 postprocessor; do
    for _ in $(seq 1 600); do
        podman logs "minilm-$stage-0-$stage" 2>&1 | grep -q '"event":"ready"' && break
        sleep 0.2
    done
done
podman pod ps --filter name=minilm

say "Swift client from the host"
"$sealpipe" submit --allow-simulated --front tcp://127.0.0.1:5555 --kms tcp://127.0.0.1:5550 --kms-key "$identity" --verbose \
    "A man is playing a guitar on stage." "Someone performs music with a guitar." "A cat sleeps on a warm windowsill."

say "Python client from the host"
printf '%s\n' '{"text": "A man is playing a guitar on stage."}' \
    | python3 Scripts/client.py --allow-simulated --front tcp://127.0.0.1:5555 --kms tcp://127.0.0.1:5550 --kms-key "$identity" \
    | python3 -c 'import json, sys; print(len(json.loads(sys.stdin.readline())["embedding"]), "floats back")'

say "take it down (SIGTERM drains each service)"
cleanup
trap - EXIT
echo "done; state kept in $out/state and $out/weights"
