#!/usr/bin/env bash
# Runs the sentence-transformers baseline benchmark in the reference venv, preparing
# the venv (Scripts/reference/setup-venv.sh) and the model files first.
# Arguments go to pytorch_bench.py, e.g. --threads 2 --json out/pytorch-bench.json
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/../fetch-model.sh" >&2
python="$("$here/../reference/setup-venv.sh")"
exec "$python" "$here/pytorch_bench.py" "$@"
