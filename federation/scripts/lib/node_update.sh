# shellcheck shell=sh
# Included by the node scripts (`# include: node_update`).
# Swarm's allocator bumps a node's version on its own (network attachments come and go with the
# overlay and its tasks), so an update read at the old version fails "update out of sequence":
# read it again and retry, a few times.
node_update() {
	tries=1
	until error=$(docker node update "$@" 2>&1 >/dev/null); do
		case "$error" in
		*"update out of sequence"*) [ "$tries" -lt 5 ] || { echo "$error" >&2; return 1; } ;;
		*) echo "$error" >&2; return 1 ;;
		esac
		tries=$((tries + 1))
		sleep 1
	done
}
