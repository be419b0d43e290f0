"""What a preview hands the program for an updated resource, and how `--diff` renders it, with
no host: the commands have no `create`, so deploying them dials nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engine import deploy, preview
from tests.engine.display import render_diff
from tests.engine.props import UNKNOWN
from tests.engine.providers.base import HandlerContext
from tests.engine.providers.command import RemoteCommandHandler
from tests.engine.state import ResourceState
from tests.engine_tests.labkit import write_program

CHAIN = """
import pulumi
from pulumi_command import remote

config = pulumi.Config()
conn = remote.ConnectionArgs(host=config.require("host"), user="root", port=22)
first = remote.Command("first", connection=conn, delete="true")
second = remote.Command(
    "second", connection=conn, delete="true", environment={"FROM_FIRST": first.stdout}
)
"""


def _command(outputs: dict[str, Any]) -> ResourceState:
    return ResourceState("urn:c", "command:remote:Command", "c", True, "c1", outputs=outputs)


def test_an_updated_commands_outputs_are_unknown_in_a_preview() -> None:
    """pulumi-command v1.2.1 remote/commandController.go Update (DryRun: the new inputs with the
    old BaseOutputs) through pulumi-go-provider v1.3.0 infer/resource.go Update ->
    getDependencies -> ensureDefaultComputed + markComputed (isCreate false): stdout and stderr
    become unknown when an input differs from the state or is unknown; outputs mirroring an
    input keep it; an input the state does not hold (`hasOldInput` false) changes nothing."""
    handler = RemoteCommandHandler(HandlerContext())
    conn = {"host": "10.0.0.1", "user": "root", "port": 22}
    old = _command({"connection": conn, "create": "x", "stdout": "id-1", "stderr": ""})

    same = handler.preview_update(old, {"connection": conn, "create": "x"})
    assert (same["stdout"], same["stderr"]) == ("id-1", "")

    moved = {"connection": {**conn, "host": "10.0.0.2"}, "create": "x"}
    changed = handler.preview_update(old, moved)
    assert (changed["stdout"], changed["stderr"]) == (UNKNOWN, UNKNOWN)
    assert changed["connection"] == moved["connection"], "an input's mirror stays known"

    unknown = handler.preview_update(old, {"connection": {**conn, "host": UNKNOWN}, "create": "x"})
    assert unknown["stdout"] == UNKNOWN
    removed = handler.preview_update(old, {"connection": conn})
    assert removed["stdout"] == UNKNOWN, "a removed input is a null against the state's value"
    added = handler.preview_update(old, {"connection": conn, "create": "x", "logging": "none"})
    assert added["stdout"] == "id-1", "an input the state lacks is not compared"


def test_a_dependent_of_a_changed_command_previews_an_unknown(tmp_path: Path) -> None:
    """The engine hands the preview's Update outputs to the program (pkg/resource/deploy/step.go
    UpdateStep.Apply with Preview; the provider supports previews), so a command fed by a
    changed command's stdout is an update. In `--diff` (pulumi/pulumi pkg/backend/display/
    object_diff.go printPropertyValueDiff, shouldPrintPropertyValue; 3.x since #19204) the old
    empty stdout does not print, so the unknown is an add, `[unknown]`."""
    program = write_program(tmp_path / "prog", CHAIN)
    state = tmp_path / "state.json"
    first = deploy(program, "dev", {"mip-federation:host": "10.0.0.1"}, [], state)
    assert first.ok, first.errors
    plan = preview(program, "dev", {"mip-federation:host": "10.0.0.2"}, [], state)
    assert plan.ok, plan.errors
    assert plan.step_ops() == {"mip-federation-dev": "same", "first": "update", "second": "update"}
    second = next(s for s in plan.steps if s["name"] == "second")
    assert {path: d["kind"] for path, d in second["detailedDiff"].items()} == {
        "connection.host": "update",
        "environment.FROM_FIRST": "update",
    }
    text = render_diff(plan.steps, plan.change_summary, "dev")
    assert "          + FROM_FIRST: [unknown]" in text.splitlines(), text
    assert json.loads(state.read_text()), "a preview saves nothing"
