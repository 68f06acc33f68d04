#!/usr/bin/env bash
# Installs what building and testing Sealpipe needs on a Debian machine. Safe to run twice:
# it installs only what is missing.
set -euo pipefail

# podman, runc, netavark and aardvark-dns: the container image and the live podman test (runc
# because crun refuses a hybrid cgroup layout; aardvark-dns for name resolution between pods;
# catatonit for the pause process podman builds its pods' infra image from; iptables, which
# netavark drives for the pods' network and published ports).
debian_packages=(libzmq3-dev libsodium-dev libopenblas-dev libdnnl-dev pkg-config tcpdump prometheus iproute2
    podman runc netavark aardvark-dns catatonit iptables)
python_packages=("pyzmq==27.3.0" "PyNaCl==1.6.2")
# Offline Kubernetes schemas: the rendered manifests are validated against 1.30 and 1.34.
validator_package="kubernetes-validate==1.37.0"

log() { printf '[setup] %s\n' "$*"; }

missing=()
for package in "${debian_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    sudo_cmd=()
    if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    log "Debian packages present: ${debian_packages[*]}"
fi

if python3 -c 'import zmq, nacl' 2>/dev/null; then
    log "python modules present: pyzmq, PyNaCl"
else
    log "installing python modules: ${python_packages[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${python_packages[@]}"
fi

if command -v kubernetes-validate >/dev/null; then
    log "kubernetes-validate present"
else
    log "installing $validator_package"
    python3 -m pip install --quiet --disable-pip-version-check "$validator_package"
fi

for library in libzmq libsodium openblas; do
    pkg-config --exists "$library" || { echo "[setup] pkg-config cannot find $library" >&2; exit 1; }
done
log "ready: libzmq $(pkg-config --modversion libzmq), libsodium $(pkg-config --modversion libsodium), openblas $(pkg-config --modversion openblas)"
