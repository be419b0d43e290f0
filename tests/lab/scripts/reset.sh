#!/bin/sh
# Bring a lab host back to its just-booted state but keep its images: leave any swarm, remove all
# containers and volumes, and every network but the default ones.
set -eu
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != inactive ]; then
    docker swarm leave --force >/dev/null
fi
docker ps -aq | xargs -r docker rm -f >/dev/null
docker volume ls -q | xargs -r docker volume rm -f >/dev/null
docker network prune -f >/dev/null
