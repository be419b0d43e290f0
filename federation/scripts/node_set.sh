# On the leader: give node NODE_ID its role and its name label. Inputs: NODE (alias), NODE_ID, ROLE.
set -eu
# Only when they differ: an update bumps the node's version even when nothing changes, and the
# command runs again whenever its connection changes (pulumi-command's Update runs create).
current=$(docker node inspect --format '{{.Spec.Role}} {{index .Spec.Labels "name"}}' "$NODE_ID")
[ "$current" = "$ROLE $NODE" ] || docker node update --role "$ROLE" --label-add "name=$NODE" "$NODE_ID" >/dev/null
echo "$NODE_ID"
