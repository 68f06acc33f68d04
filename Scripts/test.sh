#!/usr/bin/env bash
# The whole test suite from a fresh machine: set-up, model files, build, every test.
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/setup.sh
Scripts/fetch-model.sh

echo "[test] building (debug) with tests"
swift build --build-tests

# Interop tests must run here: set-up installed pyzmq and PyNaCl, so a missing module is a failure.
export SEALPIPE_REQUIRE_INTEROP=1
echo "[test] running the test suite"
swift test --skip-build "$@"

# The container path, live: image, podman kube play, jobs, a killed shard, an edited topology.
echo "[test] podman end to end"
Scripts/test-podman.sh
