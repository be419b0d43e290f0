#!/bin/sh
# Stop dockerd on a lab host with SIGTERM, as systemd would, and wait until it has exited.
pid=$(cat /run/docker.pid 2>/dev/null) || exit 0
kill "$pid" 2>/dev/null || exit 0
while kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
done
