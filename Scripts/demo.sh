#!/usr/bin/env bash
# The main job end to end on a fresh machine: set up, build, launch Topologies/minilm.yaml,
# submit sentences through the Swift client and the Python client, show the similarity
# matrix, and shut the pipeline down cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

say "set-up (Debian packages, pyzmq, PyNaCl) and the model files"
Scripts/setup.sh
Scripts/fetch-model.sh

say "build (release)"
swift build -c release --product sealpipe
SEALPIPE="$(swift build -c release --show-bin-path)/sealpipe"

say "launch Topologies/minilm.yaml: key broker, gateway, tokenizer, 2 encoder shards, pooling"
log="$(mktemp -t sealpipe-demo-launch.XXXXXX)"
SEALPIPE_LOG_LEVEL=warning "$SEALPIPE" launch Topologies/minilm.yaml >"$log" 2>&1 &
launcher=$!
cleanup() { kill -TERM "$launcher" 2>/dev/null || true; wait "$launcher" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 600); do
    grep -q '"service":"launch"' "$log" && break
    kill -0 "$launcher" 2>/dev/null || { cat "$log"; echo "the launcher exited early" >&2; exit 1; }
    sleep 0.2
done
grep -q '"service":"launch"' "$log" || { cat "$log"; echo "the pipeline did not come up" >&2; exit 1; }
grep '^\[launch\]' "$log"

say "pipeline status"
"$SEALPIPE" status --topology Topologies/minilm.yaml

say "Swift client: sealed jobs, cosine similarity of the embeddings"
# Topologies/minilm.yaml runs on the simulated TEE: the clients refuse it without --allow-simulated.
"$SEALPIPE" submit --topology Topologies/minilm.yaml --verbose --allow-simulated \
    "A man is playing a guitar on stage." \
    "Someone performs music with a guitar." \
    "The stock market fell sharply on Monday." \
    "Shares dropped steeply at the start of the week." \
    "A cat sleeps on a warm windowsill."

say "receipts: every stage signs for each job; verified against the key broker's log, offline"
receipts="$(mktemp -d -t sealpipe-demo-receipts.XXXXXX)"
"$SEALPIPE" submit --topology Topologies/minilm.yaml --allow-simulated --receipts "$receipts" \
    --verify-report "$receipts/report.json" "Receipts name every attested stage that touched this sentence." >/dev/null
"$SEALPIPE" ledger export --db .sealpipe/minilm/kms.sqlite --output "$receipts/ledger.json"
"$SEALPIPE" receipt verify "$receipts"/*.receipt.json --ledger "$receipts/ledger.json" \
    --kms-key "$(cat .sealpipe/minilm/kms-identity.pub)"
rm -rf "$receipts"

say "Python client (pyzmq + PyNaCl, Scripts/client.py) on the same sentences as JSON lines"
printf '%s\n' '{"text": "A man is playing a guitar on stage."}' '{"text": "Someone performs music with a guitar."}' \
    | python3 Scripts/client.py --front tcp://127.0.0.1:5555 --kms tcp://127.0.0.1:5550 \
        --kms-key-file .sealpipe/minilm/kms-identity.pub --allow-simulated \
    | python3 -c '
import json, math, sys
vectors = [json.loads(line)["embedding"] for line in sys.stdin]
dot = sum(a * b for a, b in zip(*vectors))
print(f"{len(vectors)} embeddings of {len(vectors[0])} floats; cosine(guitar, guitar) = {dot / math.sqrt(sum(a*a for a in vectors[0]) * sum(b*b for b in vectors[1])):.3f}")'

say "status after the jobs"
"$SEALPIPE" status --topology Topologies/minilm.yaml

say "shut down: SIGTERM drains in-flight jobs and stops every service"
kill -TERM "$launcher"
wait "$launcher" && echo "launcher exited 0"
trap - EXIT
grep '^\[launch\]' "$log" | tail -2
