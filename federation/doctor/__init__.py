"""Drift report: compare the live swarm with a stack's configuration, read-only over SSH.

    python -m federation.doctor STACK [--stack-file FILE] [--key FILE] [--json] [--drift-only]

`pulumi refresh` cannot see drift behind remote commands (roles, labels, membership), so this
reads the federation as it is: it connects to the leader (the first manager) and runs only
`docker info`, `docker node|network|service ... ls/inspect/ps` and `docker inspect` there, and
asks a node itself (`docker info`) only when the leader sees it missing or not ready, to tell
"left the swarm" from "dockerd down" from "unreachable". It never changes anything on a host.

Expected state comes from `Pulumi.STACK.yaml` (namespace mip-federation), validated by
federation.config. Secrets are not needed: a `secure:` sshPrivateKey means "use --key FILE or
the SSH agent". Exit status: 0 in sync, 1 drift, 2 error (bad config, leader unreachable, a check
that could not be made).

The parts, in the order a report is made:

- `stackfile`: the stack file's validated settings (the expected state);
- `ssh`: one SSH connection per node (`Access`, `Connection`, `connect`);
- `hosts`: reading the hosts (the commands run there, the control manager's `Live` view, what
  each node says about itself: `HostReport`);
- `compare`: expected against actual, one `Row` per check;
- `render`: the table, the summary, the JSON document, the exit status;
- `cli`: the command line (`report`, `diagnose`, `main`); `model` holds the shared types.
"""

from federation.doctor.cli import diagnose, main, report
from federation.doctor.compare import (
    compare,
    control_of,
    leader_of,
    match_nodes,
    needs_probe,
    ordered_nodes,
    same_image,
    swarm_row,
)
from federation.doctor.hosts import (
    LEADER_COMMANDS,
    SWARM_COMMAND,
    ask_host,
    is_manager,
    probe,
    read_live,
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
from federation.doctor.render import HEADER, VERDICTS, exit_status, summary, table
from federation.doctor.ssh import DEFAULT_TIMEOUT, Access, Connection, Result, SshError, connect
from federation.doctor.stackfile import UNDECRYPTED, read_stack

__all__ = [
    "DEFAULT_TIMEOUT",
    "HEADER",
    "LEADER_COMMANDS",
    "LOCKED_FIX",
    "OBJECT_FIX",
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
    "compare",
    "connect",
    "control_of",
    "diagnose",
    "exit_status",
    "is_manager",
    "leader_of",
    "main",
    "match_nodes",
    "needs_probe",
    "ordered_nodes",
    "probe",
    "read_live",
    "read_stack",
    "report",
    "row",
    "same_image",
    "summary",
    "swarm_row",
    "table",
]
