#!/bin/sh
# Start dockerd on a lab host, detached so that the host's init adopts it.
# Usage (on the host): start-dockerd.sh HOST DATA_DIR
# Containers go to the cgroup mip-lab/HOST below dockerd's own cgroup.
set -eu
host=$1 data=$2

(
    setsid dockerd --cgroup-parent="mip-lab/$host" \
        </dev/null >>"$data/log/dockerd.log" 2>&1 &
)
