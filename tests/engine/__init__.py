"""Engine double for testing the mip-federation Pulumi program without the Pulumi CLI.

It runs the real program under Pulumi's mock runtime and APPLIES what it registers: remote
commands over SSH (paramiko, like pulumi-command), Docker networks, services and containers
through the provider's `ssh://` host (the system ssh binary, like pulumi-docker). It keeps a
state file per stack (secrets encrypted) so redeploys, updates, replacements, deletes and
destroy behave like `pulumi up` / `pulumi destroy`. See README.md in this folder.
"""

from tests.engine.api import (
    DeployResult,
    DestroyResult,
    PreviewResult,
    default_state_file,
    deploy,
    destroy,
    preview,
    refresh,
)
from tests.engine.stackfile import StackFileError, load_stack_file

__all__ = [
    "DeployResult",
    "DestroyResult",
    "PreviewResult",
    "StackFileError",
    "default_state_file",
    "deploy",
    "destroy",
    "load_stack_file",
    "preview",
    "refresh",
]
