#!/bin/sh
# First process of a lab host, run under tini (PID 1) in the host's own network, mount, UTS and PID
# namespaces. Usage: boot.sh HOST DATA_DIR
# Gives the host its hostname, its own /run, /var/lib/docker, /etc/docker, /root and /tmp (the
# same paths under DATA_DIR) and its own /sys, starts sshd and dockerd, then idles. Killing PID 1
# ends the host.
set -eu
host=$1 data=$2

hostname "$host"
# A sysfs of the host's network namespace (/sys/class/net lists the host's own interfaces), with
# the machine's cgroup mounts carried over for dockerd.
mkdir -p "$data/sys"
mount -t sysfs sysfs "$data/sys"
mount --rbind /sys/fs/cgroup "$data/sys/fs/cgroup"
mount --move "$data/sys" /sys
for dir in /run /var/lib/docker /etc/docker /root /tmp; do
    mount --bind "$data$dir" "$dir"
done
mkdir -p /run/sshd
/usr/sbin/sshd -f "$data/sshd_config" -E "$data/log/sshd.log"
sh "$data/scripts/start-dockerd.sh" "$host" "$data"
exec sleep infinity
