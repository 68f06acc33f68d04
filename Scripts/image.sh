#!/usr/bin/env bash
# Builds the OCI image localhost/sealpipe:VERSION from scratch (no base image is downloaded): the
# release `sealpipe` binary with the Swift standard library linked in statically, the shared
# libraries it needs as ldd finds them (libzmq, libsodium, OpenBLAS and theirs, glibc) and the
# oneDNN it opens at run time for int8, a
# non-root user, and nothing else: no model weights, no keys, no platform key.
# Prints the image reference by digest on its last line. Incremental: the release build is reused
# when nothing changed (a cold build takes 20-40 minutes on two shared cores, an unchanged one seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source Scripts/podman-env.sh
sealpipe_podman_env "$root"

log() { printf '[image] %s\n' "$*" >&2; }

command -v podman >/dev/null || { echo "[image] podman is missing (Scripts/setup.sh installs it)" >&2; exit 1; }

log "release build of sealpipe (static Swift standard library)"
nice -n 10 swift build -c release --static-swift-stdlib --product sealpipe >&2
binary="$(swift build -c release --show-bin-path)/sealpipe"
version="$("$binary" --version)"

rootfs="$root/.build/image/rootfs"
rm -rf "$rootfs"
mkdir -p "$rootfs/usr/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/var/lib/sealpipe" "$rootfs/etc/sealpipe"
chmod 1777 "$rootfs/tmp"
install -m 0755 "$binary" "$rootfs/usr/bin/sealpipe"
strip --strip-debug "$rootfs/usr/bin/sealpipe" 2>/dev/null || true

# Every shared library the binary loads, at the path the loader finds it, plus the loader itself.
libraries=$(ldd "$binary" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}')
for library in $libraries; do
    mkdir -p "$rootfs$(dirname "$library")"
    cp -L "$library" "$rootfs$library"
done
case "$(ldd "$binary")" in *"not found"*) log "a library is missing: $(ldd "$binary" | grep 'not found')"; exit 1 ;; esac
# oneDNN is opened at run time (dlopen), so ldd does not list it: without it, an int8 stage in the
# container would fall back to fp32 (and say so). Add it and what it loads when the build host has it.
onednn=$(ldconfig -p | awk '/libdnnl\.so\.2 .*x86-64/{print $NF; exit}')
if [ -n "$onednn" ]; then
    for library in "$onednn" $(ldd "$onednn" | awk '/=> \//{print $3}'); do
        [ -e "$rootfs$library" ] && continue
        mkdir -p "$rootfs$(dirname "$library")"
        cp -L "$library" "$rootfs$library"
        libraries="$libraries $library"
    done
else
    log "no libdnnl.so.2 on this host: int8 stages in the image will run in fp32 (apt-get install libdnnl-dev)"
fi
log "libraries: $(printf '%s ' $libraries | sed "s|/[^ ]*/||g")"

# A user to run as (65532, as in the rendered pods) and the glibc name-service defaults.
printf 'root:x:0:0:root:/root:/sbin/nologin\nsealpipe:x:65532:65532:sealpipe:/var/lib/sealpipe:/sbin/nologin\n' \
    >"$rootfs/etc/passwd"
printf 'root:x:0:\nsealpipe:x:65532:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
touch "$rootfs/etc/hosts" "$rootfs/etc/resolv.conf"

cat >"$root/.build/image/Containerfile" <<CONTAINERFILE
FROM scratch
COPY rootfs/ /
USER 65532:65532
WORKDIR /var/lib/sealpipe
ENTRYPOINT ["/usr/bin/sealpipe"]
LABEL org.opencontainers.image.title="sealpipe" org.opencontainers.image.version="$version" \
      org.opencontainers.image.description="Confidential inference pipeline; holds no weights and no keys"
CONTAINERFILE

log "podman build localhost/sealpipe:$version"
podman build --quiet --timestamp 0 --tag "localhost/sealpipe:$version" -f "$root/.build/image/Containerfile" \
    "$root/.build/image" >&2
digest="$(podman image inspect --format '{{.Digest}}' "localhost/sealpipe:$version")"
log "size: $(podman image inspect --format '{{.Size}}' "localhost/sealpipe:$version") bytes"
echo "localhost/sealpipe@$digest"
