# On the leader: give node NODE_ID its role and its name label. Inputs: NODE (alias), NODE_ID, ROLE.
set -eu
docker node update --role "$ROLE" --label-add "name=$NODE" "$NODE_ID" >/dev/null
echo "$NODE_ID"
