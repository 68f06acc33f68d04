#!/usr/bin/env bash
# Runs the ONNX Runtime anchors (fp32 fused, and int8 dynamic quantization) in the reference
# venv (Scripts/reference/setup-venv.sh), adding the packages of ort-requirements.txt to it
# first when they are missing (from PyPI; a stamp records what was installed).
# Arguments go to ort_bench.py, e.g. --threads 2 --json out/ort.json
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/../fetch-model.sh" >&2
python="$("$here/../reference/setup-venv.sh")"
requirements="$here/ort-requirements.txt"
stamp="$(dirname "$(dirname "$python")")/.ort-requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    printf 'ort_bench: installing %s into the reference venv\n' "$(grep -E '^[A-Za-z]' "$requirements" | tr '\n' ' ')" >&2
    "$python" -m pip install --no-input --progress-bar off --quiet -r "$requirements" >&2 \
        || { printf 'ort_bench: error: pip install -r %s failed\n' "$requirements" >&2; exit 1; }
    printf '%s\n' "$want" >"$stamp"
fi
exec "$python" "$here/ort_bench.py" "$@"
