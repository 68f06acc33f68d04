#!/usr/bin/env bash
# Regenerates Tests/InferenceTests/Fixtures/minilm-reference.json with
# sentence-transformers on CPU PyTorch. Prepares the venv (setup-venv.sh) and the
# model files (fetch-model.sh) first; arguments go to make_reference.py.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/../fetch-model.sh" >&2
python="$("$here/setup-venv.sh")"
exec "$python" "$here/make_reference.py" "$@"
