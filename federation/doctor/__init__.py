"""Drift report: compare the live swarm with a stack's configuration, over SSH.

    python -m federation.doctor STACK [--stack-file FILE] [--key FILE] [--timeout S] [--json]
                                      [--drift-only] [--probe [--probe-timeout S]]
                                      [--cert-warn-days N]

`pulumi refresh` cannot see drift behind remote commands (roles, labels, membership), so this
reads the federation as it is, over one SSH connection per node, all opened at once: on the
control manager (swarm.controlManager, else the leader) `docker info`, `docker
node|network|service ... ls/inspect/ps` and `docker inspect`; on every other node `docker info`,
what the node says about itself (swarm state, node id, cluster), so that a node that left,
joined another swarm or is locked shows at once; and on every node its swarm certificate
(federation/scripts/node_certificate.sh), whose expiry warns below --cert-warn-days days left.
Without --probe it never changes anything on a host; --probe also runs the data-plane probe
(federation.probe): a short-lived container per node on the overlay, removed after.

Expected state comes from `Pulumi.STACK.yaml` (namespace mip-federation), validated by
federation.config. Secrets are not needed: a `secure:` sshPrivateKey means "use --key FILE or
the SSH agent". Exit status: 0 in sync, 1 drift or a warning, 2 error (bad config, leader
unreachable, a check that could not be made, an expired certificate).

The parts, in the order a report is made:

- `stackfile`: the stack file's validated settings (the expected state);
- `ssh`: one SSH connection per node (`Access`, `Connection`, `connect`);
- `hosts`: reading the hosts (the commands run there, the control manager's `Live` view, what
  each node says about itself: `HostReport`, the probe's `run_probe`/`run_verdict`);
- `compare`: expected against actual, one `Row` per check (`probe_rows` for --probe);
- `certificates`: each node's certificate expiry against the threshold (`certificate_rows`);
- `render`: the table, the summary, the JSON document, the exit status;
- `cli`: the command line (`report`, `diagnose`, `main`); `model` holds the shared types.
"""

from federation.doctor.certificates import CERT_WARN_DAYS, certificate_row, certificate_rows
from federation.doctor.cli import diagnose, main, report
from federation.doctor.compare import (
    compare,
    match_nodes,
    ordered_nodes,
    same_image,
    swarm_row,
)
from federation.doctor.hosts import (
    CERTIFICATE_COMMAND,
    LEADER_COMMANDS,
    PORTAL_COMMAND,
    SWARM_COMMAND,
    ask_host,
    is_manager,
    read_certificate,
    read_live,
    read_portal,
)
from federation.doctor.model import (
    LOCKED_FIX,
    OBJECT_FIX,
    SERVICE_FIX,
    DoctorError,
    HostReport,
    Live,
    Row,
    Status,
    row,
)
from federation.doctor.render import HEADER, VERDICTS, exit_status, summary, table, verdict
from federation.doctor.ssh import DEFAULT_TIMEOUT, Access, Connection, Result, SshError, connect
from federation.doctor.stackfile import UNDECRYPTED, read_stack

__all__ = [
    "CERTIFICATE_COMMAND",
    "CERT_WARN_DAYS",
    "DEFAULT_TIMEOUT",
    "HEADER",
    "LEADER_COMMANDS",
    "LOCKED_FIX",
    "OBJECT_FIX",
    "PORTAL_COMMAND",
    "SERVICE_FIX",
    "SWARM_COMMAND",
    "UNDECRYPTED",
    "VERDICTS",
    "Access",
    "Connection",
    "DoctorError",
    "HostReport",
    "Live",
    "Result",
    "Row",
    "SshError",
    "Status",
    "ask_host",
    "certificate_row",
    "certificate_rows",
    "compare",
    "connect",
    "diagnose",
    "exit_status",
    "is_manager",
    "main",
    "match_nodes",
    "ordered_nodes",
    "read_certificate",
    "read_live",
    "read_portal",
    "read_stack",
    "report",
    "row",
    "same_image",
    "summary",
    "swarm_row",
    "table",
    "verdict",
]
