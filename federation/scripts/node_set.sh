# On the leader: give node NODE_ID its role, its name label and its availability (active, or
# drain for maintenance). Inputs: NODE (alias), NODE_ID, ROLE, AVAILABILITY.
set -eu
# include: node_update
# Only when they differ: an update bumps the node's version even when nothing changes, and the
# command runs again whenever its connection changes (pulumi-command's Update runs create).
current=$(docker node inspect --format '{{.Spec.Role}} {{index .Spec.Labels "name"}} {{.Spec.Availability}}' "$NODE_ID")
[ "$current" = "$ROLE $NODE $AVAILABILITY" ] ||
	node_update --role "$ROLE" --availability "$AVAILABILITY" --label-add "name=$NODE" "$NODE_ID"
echo "$NODE_ID"
