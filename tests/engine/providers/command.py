"""`command:remote:Command` (pulumi-command) applied over SSH for real.

Create/Update/Delete follow provider/pkg/provider/remote/commandController.go; running a
command follows commandOutputs.go CommandOutputs.run (see ssh_exec for the connection).
"""

from __future__ import annotations

import secrets
from typing import Any

from tests.engine.props import UNKNOWN, canonical, is_unknown
from tests.engine.providers import ssh_exec
from tests.engine.providers.base import Handler, ProviderError, ResourceView, plain
from tests.engine.state import ResourceState

PULUMI_COMMAND_STDOUT = "PULUMI_COMMAND_STDOUT"
PULUMI_COMMAND_STDERR = "PULUMI_COMMAND_STDERR"
# The fields of CommandInputs (remote/command.go, with common.ResourceInputs embedded): with no
# WireDependencies, pulumi-go-provider makes every output depend on each of them.
INPUT_FIELDS = (
    "triggers",
    "create",
    "update",
    "delete",
    "stdin",
    "logging",
    "connection",
    "environment",
    "addPreviousOutputInEnv",
)
OUTPUT_ONLY = ("stdout", "stderr")  # BaseOutputs


def _should_log(logging: str | None) -> tuple[bool, bool]:
    if logging in (None, "", "stdoutAndStderr"):
        return True, True
    return logging == "stdout", logging == "stderr"


class RemoteCommandHandler(Handler):
    # The Python SDK registers the resource with replaceOnChanges=["triggers[*]"]; the engine
    # applies that from the registration. Every other change is an in-place update.
    replace_keys = frozenset()

    def create(self, res: ResourceView) -> tuple[str, dict[str, Any]]:
        resource_id = res.name + secrets.token_hex(4)
        outputs = dict(res.inputs)
        outputs.update(stdout="", stderr="")
        command = res.inputs.get("create")
        if command is not None:
            outputs.update(self._run(res.name, res.inputs, command, previous=None))
        return resource_id, outputs

    def update(self, res: ResourceView, old: ResourceState) -> dict[str, Any]:
        previous = plain(old.outputs)
        outputs = dict(res.inputs)
        outputs.update(stdout=previous.get("stdout", ""), stderr=previous.get("stderr", ""))
        command = res.inputs.get("update")
        if command is None:
            command = res.inputs.get("create")
        if command is not None:
            outputs.update(self._run(res.name, res.inputs, command, previous=previous))
        return outputs

    def preview_update(self, old: ResourceState, news: dict[str, Any]) -> dict[str, Any]:
        """commandController.go Update under a preview: the new inputs with the old stdout and
        stderr, then pulumi-go-provider infer/resource.go `getDependencies` with the default
        wiring (`ensureDefaultComputed`: every output depends on every input) and `markComputed`
        (not a create): an output that mirrors an input of the same value stays; any other is
        made unknown when one input is unknown or differs from the state's value under that key
        (an input the state does not hold counts as unchanged). So a changed command shows its
        stdout as unknown to its dependents. Values are compared unwrapped."""
        outputs = {**news, **{key: old.outputs.get(key, "") for key in OUTPUT_ONLY}}
        changed = any(
            is_unknown(news.get(key))
            or (key in old.outputs and canonical(news.get(key)) != canonical(old.outputs[key]))
            for key in INPUT_FIELDS
        )
        if changed:
            outputs.update({key: UNKNOWN for key in OUTPUT_ONLY})
        return outputs

    def delete(self, old: ResourceState) -> None:
        props = plain(old.outputs) or plain(old.inputs)
        command = props.get("delete")
        if command is None:
            return
        self._run(old.name, props, command, previous=props)

    def _run(
        self,
        name: str,
        props: dict[str, Any],
        command: str,
        previous: dict[str, Any] | None,
    ) -> dict[str, str]:
        if "connection" not in props:
            raise ProviderError("Missing required property 'connection'")
        conn = ssh_exec.Connection.from_inputs(props["connection"])
        previous_output: dict[str, str] = {}
        if previous is not None and props.get("addPreviousOutputInEnv", True) is not False:
            previous_output = {
                PULUMI_COMMAND_STDOUT: str(previous.get("stdout") or ""),
                PULUMI_COMMAND_STDERR: str(previous.get("stderr") or ""),
            }
        log_stdout, log_stderr = _should_log(props.get("logging"))

        def echo(text: str) -> None:
            for line in text.splitlines():
                self.ctx.progress(f"    [{name}] {line}")

        def on_retry(text: str) -> None:
            self.ctx.progress(f"    [{name}] {text}")

        def diag(severity: str, text: str) -> None:
            # The provider's logger: Pulumi prints these as the resource's diagnostics.
            self.ctx.progress(f"    [{name}] {severity}: {text}")

        environment = {str(k): str(v) for k, v in (props.get("environment") or {}).items()}
        try:
            result = ssh_exec.run(
                conn,
                command,
                stdin=props.get("stdin"),
                environment=environment,
                previous_output=previous_output,
                log_stdout=log_stdout,
                log_stderr=log_stderr,
                echo=echo,
                on_retry=on_retry,
                diag=diag,
            )
        except ssh_exec.SshError as exc:
            raise ProviderError(str(exc)) from exc
        return {"stdout": result.stdout, "stderr": result.stderr}
