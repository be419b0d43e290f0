#!/bin/sh
# Entrypoint of mip-lab/busybox:1. No arguments: idle forever. One argument: a shell command line
# ("sleep 3600; echo done"). More: a command and its arguments (sleep 3600).
case $# in
0) exec sleep infinity ;;
1) exec sh -c "$1" ;;
*) exec "$@" ;;
esac
