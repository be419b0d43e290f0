# The Exareme image's own start (its WORKDIR /root/exareme, `/bin/bash bootstrap.sh`), with
# RAWPASSWORD read from the node's swarm secret: no service spec or container config holds it.
# Input: PASSWORD_FILE (where the secret is mounted). bootstrap.sh exits when RAWPASSWORD is empty.
set -eu
RAWPASSWORD=$(cat "$PASSWORD_FILE")
export RAWPASSWORD
exec /bin/bash bootstrap.sh
