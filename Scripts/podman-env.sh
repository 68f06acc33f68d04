# Sourced by Scripts/image.sh, Scripts/demo-podman.sh and the live podman test: the podman settings
# this machine needs, written to .build/podman/containers.conf and selected with CONTAINERS_CONF only
# when at least one is needed (a normal podman host keeps its own configuration).
# Each setting is detected, never assumed, and says why it is there.
sealpipe_podman_env() {
    local root="$1" engine=() containers=()
    if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ]; then
        # A cgroup v1 or hybrid layout: crun refuses it here, runc runs on it.
        engine+=('runtime = "runc"')
    fi
    if [ ! -d /run/systemd/system ]; then
        # No systemd to ask for cgroups or to log events to.
        engine+=('cgroup_manager = "cgroupfs"' 'events_logger = "file"')
    fi
    if ! python3 -c 'import resource as r; r.setrlimit(r.RLIMIT_NOFILE, r.getrlimit(r.RLIMIT_NOFILE))' 2>/dev/null; then
        # setrlimit is denied in this sandbox: containers keep the host's limits (like --ulimit host)
        # instead of podman's raised defaults, which it could not set.
        containers+=('default_ulimits = []')
    fi
    if ((${#engine[@]} + ${#containers[@]})); then
        mkdir -p "$root/.build/podman"
        {
            echo "# Written by Scripts/podman-env.sh for this machine; see the comments there for why."
            echo "[containers]"
            printf '%s\n' "${containers[@]}"
            echo "[engine]"
            printf '%s\n' "${engine[@]}"
        } >"$root/.build/podman/containers.conf"
        export CONTAINERS_CONF="$root/.build/podman/containers.conf"
    fi
}
