#!/usr/bin/env bash
# Fuzz one decoder with libFuzzer.
#
#   Scripts/fuzz.sh TARGET SECONDS [libFuzzer options…]   run TARGET for SECONDS
#   Scripts/fuzz.sh --build TARGET                          only build its harness
#   Scripts/fuzz.sh --list                                  name every target
#
# The library modules a harness needs are built by SwiftPM into .build-fuzz with coverage and
# AddressSanitizer instrumentation (-sanitize=fuzzer,address); the harness (Fuzz/Targets/TARGET.swift,
# exporting LLVMFuzzerTestOneInput) is compiled and linked against them with swiftc, which adds
# libFuzzer's own main. Inputs come from the committed seeds in Fuzz/Corpus/TARGET; new ones go to
# .build-fuzz/corpus/TARGET (never committed), crashes to .build-fuzz/crashes/TARGET.
# The run is niced: fuzzing must not slow anyone's build.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=.build-fuzz
targets="header envelope bundle result receipt announcement tensorcodec safetensors tokenizer sevsnp-report sevsnp-certs tdx-quote nvidia-evidence kms topology zmtp"

# The SwiftPM targets whose objects a harness links, and any sources compiled into it.
modules_for() {
    case "$1" in
        header | envelope | bundle | result | receipt | announcement) echo "Wire" ;;
        tensorcodec | safetensors | tokenizer) echo "Inference" ;;
        sevsnp-report | sevsnp-certs | tdx-quote | nvidia-evidence) echo "Attestation" ;;
        kms) echo "Trust" ;;
        topology) echo "Topology" ;;
        zmtp) echo "ZeroMQ" ;;
        *) echo "unknown fuzz target: $1 (one of: $targets)" >&2; exit 2 ;;
    esac
}

build() {
    local target=$1 module
    for module in $(modules_for "$target"); do
        nice -n 19 swift build --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address --target "$module" \
            2>&1 | grep -E "error|warning: unre" >&2 || true
    done
    local debug
    debug=$(find "$scratch" -maxdepth 2 -type d -path '*-linux-gnu/debug' | head -n 1)
    [ -n "$debug" ] || debug="$scratch/debug"
    local objects=() maps=() object map
    while IFS= read -r object; do objects+=("$object"); done < <(find "$debug" -path '*.build/*.o' -not -path '*Tests.build/*' -not -path '*-tool.build/*' \
        -not -path '*Example.build/*' -not -path '*/sealpipe.build/*' -not -path '*/TestVectors.build/*' | sort)
    while IFS= read -r map; do maps+=(-Xcc "-fmodule-map-file=$map"); done < <(
        find "$debug" -maxdepth 2 -name module.modulemap
        find "$scratch/checkouts" -path '*/Sources/*/include/module.modulemap'
    )
    mkdir -p "$scratch/harness"
    rm -f "$scratch/harness/$target"
    nice -n 19 swiftc -sanitize=fuzzer,address -parse-as-library -g \
        -module-name "Fuzz_${target//-/_}" -I "$debug/Modules" -I Sources/CSodium -I Sources/COpenBLAS -I Sources/CZeroMQ -I Sources/CDNNL \
        "${maps[@]}" Fuzz/Targets/FuzzInput.swift "Fuzz/Targets/$target.swift" \
        "${objects[@]}" -lsodium -lopenblas -lzmq -lstdc++ -o "$scratch/harness/$target" 2>&1 \
        | { grep -v "Cannot export local symbol '__asan" || true; } >&2
    [ -x "$scratch/harness/$target" ] || { echo "fuzz.sh: could not build the $target harness" >&2; exit 1; }
}

case "${1:-}" in
    --list) echo "$targets" | tr ' ' '\n'; exit 0 ;;
    --build) build "${2:?usage: Scripts/fuzz.sh --build TARGET}"; exit 0 ;;
    "" | -h | --help) sed -n '2,13p' "$0"; exit 2 ;;
esac

target=$1
seconds=${2:?usage: Scripts/fuzz.sh TARGET SECONDS}
shift 2
modules_for "$target" >/dev/null
build "$target"
mkdir -p "$scratch/corpus/$target" "$scratch/crashes/$target"
# -rss_limit_mb keeps one run from taking the machine; -max_len lets a seed of a few KiB grow.
exec nice -n 19 "$scratch/harness/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$scratch/crashes/$target/" "$@" \
    "$scratch/corpus/$target" "Fuzz/Corpus/$target"
