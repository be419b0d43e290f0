"""Pieces of the engine double that need no services."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine import StackFileError, load_stack_file
from tests.engine.engine import Engine, plan_step
from tests.engine.oplog import OpLog
from tests.engine.props import (
    go_quote,
    parse_duration_ns,
    redact,
    rewrap_outputs,
    unwrap,
    wrap_secret,
)
from tests.engine.providers.base import Handler, HandlerContext
from tests.engine.providers.docker_conn import DockerTarget, ssh_command
from tests.engine.registration import Registration
from tests.engine.state import ResourceState, StackState, load_state, save_state


def test_go_quote_matches_strconv_quote() -> None:
    assert go_quote('echo "a"\n\tb\\c') == '"echo \\"a\\"\\n\\tb\\\\c"'
    assert go_quote("x\x01é") == '"x\\x01é"'


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("5s", 5_000_000_000),
        ("120s", 120_000_000_000),
        ("1m30s", 90_000_000_000),
        ("250ms", 250_000_000),
        ("1.5h", 5_400_000_000_000),
        ("0", 0),
        ("-2us", -2_000),
    ],
)
def test_go_durations(text: str, ns: int) -> None:
    assert parse_duration_ns(text) == ns


@pytest.mark.parametrize("text", ["", "5", "s", "5x", "1m 2s"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration_ns(text)


def test_outputs_keep_input_secrets_and_mark_additional_ones() -> None:
    inputs = {"connection": wrap_secret({"host": "h", "privateKey": "k"}), "create": "ls"}
    outputs = {"connection": {"host": "h", "privateKey": "k"}, "create": "ls", "stdout": "tok"}
    wrapped = rewrap_outputs(outputs, inputs, ["stdout"])
    assert wrapped["connection"] == inputs["connection"]
    assert wrapped["create"] == "ls"
    assert redact(wrapped) == {"connection": "[secret]", "create": "ls", "stdout": "[secret]"}
    assert unwrap(wrapped) == outputs


def test_state_round_trip_encrypts_secrets(tmp_path: Path) -> None:
    state_file = tmp_path / "s" / "dev.json"
    secret = "correct horse battery staple"
    res = ResourceState(
        urn="urn:pulumi:dev::p::t::a",
        type="t",
        name="a",
        custom=True,
        inputs={"stdin": wrap_secret(secret), "nested": {"k": [wrap_secret({"x": secret})]}},
    )
    save_state(state_file, StackState("dev", "p", [res], {"out": wrap_secret(secret)}))
    assert secret not in state_file.read_text()
    assert state_file.stat().st_mode & 0o777 == 0o600
    assert state_file.with_suffix(".key").stat().st_mode & 0o777 == 0o600
    loaded = load_state(state_file, "dev", "p")
    assert loaded.resources[0].inputs == res.inputs
    assert loaded.outputs == {"out": wrap_secret(secret)}


def test_stack_file_values_are_encoded_like_pulumi_config(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "mip-federation:nodes": [{"name": "a", "host": "10.0.0.1"}],
                    "mip-federation:ssh": {"user": "root", "port": 22},
                    "mip-federation:flag": True,
                    "mip-federation:name": "x",
                    "mip-federation:sshPrivateKey": {"secure": "v1:abc"},
                    "mip-federation:ldsmPasswords": {"a": {"secure": "v1:def"}},
                }
            }
        )
    )
    with pytest.raises(StackFileError) as err:
        load_stack_file(stack, None)
    assert "mip-federation:sshPrivateKey" in str(err.value)
    assert "mip-federation:ldsmPasswords.a" in str(err.value)
    assert "--secrets" in str(err.value)

    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(
        yaml.safe_dump(
            {
                "mip-federation:sshPrivateKey": "KEY",
                "mip-federation:ldsmPasswords": {"a": "pw"},
            }
        )
    )
    config, secret_keys = load_stack_file(stack, secrets)
    assert json.loads(config["mip-federation:nodes"]) == [{"name": "a", "host": "10.0.0.1"}]
    assert json.loads(config["mip-federation:ssh"]) == {"user": "root", "port": 22}
    assert config["mip-federation:flag"] == "true"
    assert config["mip-federation:name"] == "x"
    assert config["mip-federation:sshPrivateKey"] == "KEY"
    assert json.loads(config["mip-federation:ldsmPasswords"]) == {"a": "pw"}
    assert sorted(secret_keys) == ["mip-federation:ldsmPasswords", "mip-federation:sshPrivateKey"]


def test_docker_ssh_command_is_the_connhelper_one() -> None:
    target = DockerTarget("ssh://root@10.0.0.1:2222", ("-i", "/k", "-o", "BatchMode=yes"))
    assert ssh_command(target) == [
        "ssh",
        *("-i", "/k", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T"),
        *("-l", "root", "-p", "2222", "--", "10.0.0.1"),
        *("docker", "system", "dial-stdio"),
    ]
    target = DockerTarget("ssh://u@h/run/d.sock", ("-o", "ConnectTimeout=5", "-T"))
    argv = ssh_command(target)
    assert argv[-5:] == ["docker", "--host", "unix:///run/d.sock", "system", "dial-stdio"]
    assert argv.count("-T") == 1 and "ConnectTimeout=30" not in argv


class _Updatable(Handler):
    replace_keys = frozenset({"name"})


def _reg(inputs: dict[str, Any], **kw: Any) -> Registration:
    return Registration(urn="urn:x", type="t", name="x", custom=True, inputs=inputs, **kw)


def test_plan_decides_like_the_engine() -> None:
    """pkg/resource/deploy/step_generator.go `diff` and `continueStepsFromDiff`: the provider's
    Diff decides same/update/replace; replaceOnChanges paths (`applyReplaceOnChanges`) only
    match changed paths inside them; a provider change that replaces blames `provider`."""
    handler = _Updatable(HandlerContext())
    old = ResourceState(urn="urn:x", type="t", name="x", custom=True, inputs={"a": 1, "name": "n"})
    assert plan_step(None, _reg({}), {}, handler).op == "create"
    assert plan_step(old, _reg({}), {"a": 1.0, "name": "n"}, handler).op == "same"
    assert plan_step(old, _reg({}), {"a": 2, "name": "n"}, handler).op == "update"
    assert plan_step(old, _reg({}), {"a": 1, "name": "m"}, handler).op == "replace"
    # `a[*]` contains `a[0]`, not the scalar `a` itself (PropertyPath.Contains).
    with_triggers = _reg({}, replace_on_changes=["a[*]"])
    assert plan_step(old, with_triggers, {"a": 2, "name": "n"}, handler).op == "update"
    old_list = ResourceState(urn="urn:x", type="t", name="x", custom=True, inputs={"a": [1]})
    assert plan_step(old_list, with_triggers, {"a": [2]}, handler).op == "replace"
    assert plan_step(
        old, _reg({}, replace_on_changes=["a"]), {"a": 2, "name": "n"}, handler
    ).op == ("replace")
    other_provider = _reg({}, provider="urn:p::id")
    plan = plan_step(old, other_provider, {"a": 1, "name": "n"}, handler, provider_changed=True)
    assert (plan.op, plan.replaces) == ("replace", ["provider"])


class _Recorder(Handler):
    def __init__(self, ctx: HandlerContext, log: list[str], fail: str = "") -> None:
        super().__init__(ctx)
        self.log, self.fail, self.lock = log, fail, threading.Lock()

    def delete(self, old: ResourceState) -> None:
        if old.name == self.fail:
            raise RuntimeError("cannot delete")
        with self.lock:
            self.log.append(old.name)


class _Registry:
    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    def handler(self, type_: str) -> Handler:
        return self._handler


def _graph() -> list[ResourceState]:
    def res(name: str, *deps: str, parent: str = "") -> ResourceState:
        return ResourceState(
            urn=f"urn:{name}",
            type="t",
            name=name,
            custom=True,
            parent=f"urn:{parent}" if parent else "",
            dependencies=[f"urn:{d}" for d in deps],
        )

    # net <- svc <- (nothing); net <- ctr; comp (component) parents svc; prov is ctr's provider
    prov = res("prov")
    comp = ResourceState(urn="urn:comp", type="c", name="comp", custom=False)
    net = res("net")
    svc = res("svc", "net", parent="comp")
    ctr = res("ctr", "net")
    ctr.provider = "urn:prov::1234"
    return [prov, comp, net, svc, ctr]


def test_deletes_run_in_reverse_dependency_order() -> None:
    log: list[str] = []
    ctx = HandlerContext()
    resources = _graph()
    engine = Engine(StackState("s", "p", resources), OpLog(quiet=True), ctx, None, 8)  # type: ignore[arg-type]
    engine.registry = _Registry(_Recorder(ctx, log))  # type: ignore[assignment]
    engine.delete_all(resources)
    assert log.index("svc") < log.index("net")
    assert log.index("ctr") < log.index("net")
    assert log.index("ctr") < log.index("prov")
    assert not engine.errors
    assert engine.final_state(True).resources == []


def test_a_failed_delete_keeps_what_it_depends_on() -> None:
    log: list[str] = []
    ctx = HandlerContext()
    resources = _graph()
    engine = Engine(StackState("s", "p", resources), OpLog(quiet=True), ctx, None, 1)  # type: ignore[arg-type]
    engine.registry = _Registry(_Recorder(ctx, log, fail="svc"))  # type: ignore[assignment]
    engine.delete_all(resources)
    assert engine.errors == [("svc", "RuntimeError: cannot delete")]
    assert "net" not in log and "comp" not in [r for r in log]
    kept = {r.name for r in engine.final_state(False).resources}
    assert {"svc", "net", "comp"} <= kept


def test_the_project_is_found_upwards_from_the_stack_file(tmp_path: Path) -> None:
    # pulumi/pulumi sdk/go/common/workspace/paths.go DetectProjectPathFrom: the CLI walks up
    # from its working directory to the first folder with a Pulumi.yaml.
    from tests.engine.__main__ import find_project, main

    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    stack_dir = tmp_path / ".lab" / "stacks"
    stack_dir.mkdir(parents=True)
    assert find_project(stack_dir) == tmp_path.resolve()
    assert find_project(tmp_path) == tmp_path.resolve()
    (tmp_path / "Pulumi.yaml").unlink()
    assert find_project(stack_dir) is None
    lone = stack_dir / "Pulumi.lone.yaml"
    lone.write_text("config: {}\n")
    assert main(["destroy", str(lone)]) == 2
