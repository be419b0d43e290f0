#!/bin/sh
# Start dockerd on a lab host, detached so that the host's init adopts it.
# Usage (on the host): start-dockerd.sh HOST DATA_DIR
# DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 makes swarm tasks use local images (the lab has no registry).
# Containers go to the cgroup mip-lab/HOST below dockerd's own cgroup.
set -eu
host=$1 data=$2

(
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid dockerd --cgroup-parent="mip-lab/$host" \
        </dev/null >>"$data/log/dockerd.log" 2>&1 &
)
