"""Stack plans: what `pulumi up` would register for a stack, from the program alone.

    python -m federation.plan STACK            # a readable table
    python -m federation.plan STACK --json     # the same, for machines

The real `__main__.py` runs under Pulumi's mocks with the config of `Pulumi.STACK.yaml`: no
network, no backend, no provider, no Pulumi CLI. Nothing secret is ever evaluated: `secure:`
values are not decrypted (they become the placeholder `[secret]`), and a configured
`ssh.privateKeyFile` is never read (the program gets a stand-in key file, and the plan shows the
configured path). Values known only after deployment (node ids, resource ids) are shown as
`<resource.output>` placeholders.

harness: the program under mocks (also what the unit tests use); stackfile: the stack file's
config as evaluated; build: the plan; render: table and JSON; cli: the command.
"""

from federation.plan.build import Node, Plan, PlannedResource, make_plan
from federation.plan.cli import main
from federation.plan.harness import (
    MAIN,
    ROOT,
    SECRET_MARK,
    Evaluation,
    Recorded,
    run_program,
    set_config_like_the_cli,
    strip_secrets,
)
from federation.plan.render import render_json, render_table, script_summary
from federation.plan.stackfile import SECRET
from federation.tree import is_secret_wrapper, unwrap

__all__ = [
    "MAIN",
    "ROOT",
    "SECRET",
    "SECRET_MARK",
    "Evaluation",
    "Node",
    "Plan",
    "PlannedResource",
    "Recorded",
    "is_secret_wrapper",
    "main",
    "make_plan",
    "render_json",
    "render_table",
    "run_program",
    "script_summary",
    "set_config_like_the_cli",
    "strip_secrets",
    "unwrap",
]
