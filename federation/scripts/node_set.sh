# On the leader: give node NODE_ID its role, its name label and its availability (active, or
# drain for maintenance). Inputs: NODE (alias), NODE_ID, ROLE, AVAILABILITY.
set -eu
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
# Only when they differ: an update bumps the node's version even when nothing changes, and the
# command runs again whenever its connection changes (pulumi-command's Update runs create).
current=$(docker node inspect --format '{{.Spec.Role}} {{index .Spec.Labels "name"}} {{.Spec.Availability}}' "$NODE_ID")
[ "$current" = "$ROLE $NODE $AVAILABILITY" ] ||
	node_update --role "$ROLE" --availability "$AVAILABILITY" --label-add "name=$NODE" "$NODE_ID"
echo "$NODE_ID"
