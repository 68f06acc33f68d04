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
    local files
    files="$(ulimit -Hn)"
    if ! python3 -c 'import resource as r; r.setrlimit(r.RLIMIT_NOFILE, (1048576, 1048576))' 2>/dev/null; then
        # podman raises a container's open-file limit to 1048576 by default, and setrlimit above
        # the host's hard limit is denied here (even `--ulimit host` keeps that default in podman
        # 4.3): keep the host's own limit instead.
        # With that set, podman 4.3 takes the process limit to the host's maximum, which runc may
        # not set either; podman's own default of 32768 processes is allowed.
        containers+=("default_ulimits = [\"nofile=$files:$files\", \"nproc=32768:32768\"]")
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
