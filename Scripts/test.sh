#!/usr/bin/env bash
# The whole test suite from a fresh machine: set-up, model files, build, every test.
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/setup.sh
Scripts/fetch-model.sh

echo "[test] formatting (swift format lint --strict, the repository's .swift-format)"
swift format lint --strict --recursive Sources Tests Package.swift Fuzz

echo "[test] module arrows"
python3 Scripts/check-architecture.py
# The check must be able to fail: plant a service import in a copy of the topology model.
planted=$(mktemp -d)
cp -r Sources/. "$planted"
echo "import Gateway" >>"$planted/Topology/Topology.swift"
if python3 Scripts/check-architecture.py "$planted" 2>/dev/null; then
    echo "[test] check-architecture.py accepted Topology importing Gateway" >&2
    exit 1
fi
rm -rf "$planted"

echo "[test] building (debug) with tests"
swift build --build-tests

# Interop tests must run here: set-up installed pyzmq and PyNaCl, so a missing module is a failure.
export SEALPIPE_REQUIRE_INTEROP=1
if [ "$#" -gt 0 ]; then
    swift test --skip-build "$@"
    exit 0
fi
# Four runs, so that long tests never starve short ones: Swift Testing runs tests in parallel on
# a pool as wide as the machine (two threads here), and a test that computes for minutes, or waits
# on a launched pipeline, holds one of them. Unit and in-process tests first; then the scale and
# mutation tests (a million log entries, 10,000 mutated reports, 1,000 mutated RIMs, the int8 model
# against its references); then the flooded broker alone (it
# measures the broker's memory and a node's latency, which a neighbour computing would distort);
# then the end-to-end tests that launch the built binary.
scale='KeyBrokerLogScaleTests|MerkleScaleTests|NVIDIAGPUVerifierTests/fuzz|NVIDIARIMMutationTests|Int8Tests'
flood='KeyBrokerFloodTests'
echo "[test] unit and in-process tests"
swift test --skip-build --skip "$scale|$flood|EndToEndTests\."
echo "[test] scale and mutation tests"
swift test --skip-build --filter "$scale"
echo "[test] the key broker under flood"
swift test --skip-build --filter "$flood"
echo "[test] end-to-end tests (the built sealpipe binary)"
swift test --skip-build --filter 'EndToEndTests\.'

# A launched pipeline under steady real traffic while an attacker runs every flood of issue 11 in
# turn (ports 5600-5699, metrics 9500-9599). Bounds only, never timing: no real job fails, every
# process stays under its memory ceiling, the broker's state and the logs grow within their
# bounds, nothing restarts (docs/security.md, "Soak test").
echo "[test] soak: every flood against a live pipeline for 60 s"
Scripts/soak.sh 60

# Every decoder a peer can reach is fuzzed briefly from its seeds (a long run: docs/fuzzing.md).
# A crash fails the suite; its input is kept in .build-fuzz/crashes/TARGET.
echo "[test] fuzzing each decoder for ${SEALPIPE_FUZZ_SECONDS:-5} s"
mkdir -p .build-fuzz
for target in $(Scripts/fuzz.sh --list); do
    Scripts/fuzz.sh "$target" "${SEALPIPE_FUZZ_SECONDS:-5}" >".build-fuzz/$target.log" 2>&1 \
        || { tail -n 40 ".build-fuzz/$target.log"; echo "[test] fuzz target $target failed"; exit 1; }
done

# The container path, live: image, podman kube play, jobs, a killed shard, an edited topology.
echo "[test] podman end to end"
Scripts/test-podman.sh
