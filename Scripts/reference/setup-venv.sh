#!/usr/bin/env bash
# Creates (or reuses) the Python venv with CPU PyTorch and sentence-transformers
# that make_reference.py and Scripts/bench/pytorch_bench.py run in.
#
# Usage: python="$(Scripts/reference/setup-venv.sh)"
#   Progress goes to standard error; the venv's python path is the only line on
#   standard output.
#   SEALPIPE_CACHE_DIR  parent folder of the venv (default: <repo>/.cache)
#   PYTHON              the Python that creates the venv (default: python3)
#
# The venv is reused while requirements.txt is unchanged (a stamp records its
# SHA-256); otherwise it is rebuilt from scratch.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
requirements="$repo_root/Scripts/reference/requirements.txt"
venv="${SEALPIPE_CACHE_DIR:-$repo_root/.cache}/reference-venv"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

say() { printf 'setup-venv: %s\n' "$*" >&2; }
fail() { printf 'setup-venv: error: %s\n' "$*" >&2; exit 1; }

[[ -f "$requirements" ]] || fail "$requirements is missing"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "reusing $venv (requirements unchanged)"
    printf '%s\n' "$venv/bin/python"
    exit 0
fi

command -v "$python" >/dev/null || fail "$python not found; set PYTHON to a Python 3.10+"
say "creating $venv"
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" || fail "could not create a venv at $venv"

# The CPU-only torch wheel is offered outside PyPI's index; /opt/wheels holds it on
# this project's machines. Without it pip falls back to PyPI's (CUDA) build.
find_links=()
if compgen -G "/opt/wheels/torch-*+cpu-*.whl" >/dev/null; then
    find_links=(--find-links /opt/wheels)
    say "CPU-only torch wheel found in /opt/wheels"
else
    say "warning: no CPU-only torch wheel in /opt/wheels; PyPI's torch pulls CUDA libraries (several GB)"
fi

say "installing $(grep -c -E '^[A-Za-z]' "$requirements") pinned packages (about a minute)"
start=$SECONDS
"$venv/bin/python" -m pip install --no-input --progress-bar off --quiet \
    "${find_links[@]}" -r "$requirements" >&2 \
    || fail "pip install -r $requirements failed"
say "installed in $((SECONDS - start)) s: $("$venv/bin/python" -c 'import torch, sentence_transformers as st; print("torch", torch.__version__, "sentence-transformers", st.__version__)')"
printf '%s\n' "$want" > "$stamp"
printf '%s\n' "$venv/bin/python"
