#!/usr/bin/env bash
# The pipeline-wide soak test (issue 11): a launched pipeline under steady real traffic while an
# attacker process runs every flood of the issue in turn, each for a bounded time.
#
#   Scripts/soak.sh [SECONDS] [options…]     default 300 s; options: Scripts/soak/soak.py --help
#
# Launches the echo topology (and the MiniLM one, when models/ holds its files, for the 1 MiB
# texts) on ports 5600-5699 and metrics 9500-9599 in a temporary directory, drives each with
# `sealpipe loadtest --rate` for the whole time, runs Scripts/soak/attacker.py (test-only, pyzmq),
# samples every process's memory, the key broker's state files and the logs, and prints one
# report. Exits 1 when a bound is broken: a real job failed, a process over its memory ceiling,
# the broker's state or the logs over their growth bound, a restart, an unanswered metrics scrape.
# The bounds and where they come from: docs/security.md, "Soak test". Needs the built binary
# (.build/debug/sealpipe, or SEALPIPE_BINARY) and pyzmq and PyNaCl (Scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 Scripts/soak/soak.py "$@"
