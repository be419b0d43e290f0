"""The engine double's model of the Pulumi engine, unit by unit, with no services.

Each test names the pulumi/pulumi source it follows.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from google.protobuf import struct_pb2

from tests.engine import runner
from tests.engine.display import (
    render_diff,
    render_json,
    render_summary,
    translate_detailed_diff,
)
from tests.engine.engine import Engine
from tests.engine.oplog import OpLog
from tests.engine.paths import (
    apply_replace_on_changes,
    detailed_diff,
    parse_path,
    path_contains,
    process_ignore_changes,
)
from tests.engine.props import (
    SIG_KEY,
    UNKNOWN,
    annotate_secrets,
    from_wire,
    redact,
    rewrap_outputs,
    wrap_secret,
)
from tests.engine.providers.base import DiffResult, Handler, HandlerContext, PropertyDiff
from tests.engine.registration import Registration
from tests.engine.state import ResourceState, StackState

# ---------------------------------------------------------------- property paths


def test_property_paths_parse_and_contain() -> None:
    """sdk/go/common/resource/properties_path.go ParsePropertyPath and PropertyPath.Contains."""
    assert parse_path("taskSpec.placement.platforms") == ["taskSpec", "placement", "platforms"]
    assert parse_path('a[0]["b.c"][*].d') == ["a", 0, "b.c", "*", "d"]
    assert path_contains(parse_path("triggers[*]"), parse_path("triggers[3]"))
    assert not path_contains(parse_path("triggers[*]"), parse_path("triggers"))
    assert path_contains(parse_path("taskSpec"), parse_path("taskSpec.containerSpec.image"))
    assert not path_contains(parse_path("taskSpec.x"), parse_path("taskSpec.y.z"))
    assert path_contains(parse_path("*"), parse_path("anything.at.all"))


def test_ignore_changes_resets_nested_paths_to_the_old_values() -> None:
    """pkg/resource/deploy/step_generator.go processIgnoreChanges over properties_path.go
    PropertyPath.Reset: nested paths keep the old value, a secret old value stays secret, a key
    absent from the old inputs is removed, a path through a removed element is reported."""
    old = {
        "taskSpec": {
            "placement": {"platforms": [{"os": "linux"}], "constraints": ["a"]},
            "env": wrap_secret({"P": "old"}),
        },
        "name": "svc",
    }
    new = {
        "taskSpec": {
            "placement": {"platforms": [{"os": "windows"}], "constraints": ["b"]},
            "env": {"P": "new"},
        },
        "name": "svc",
        "labels": {"x": "1"},
    }
    result, invalid = process_ignore_changes(
        new, old, ["taskSpec.placement.platforms", "taskSpec.env", "labels", "gone[0].x"]
    )
    assert invalid == []
    assert result["taskSpec"]["placement"] == {"platforms": [{"os": "linux"}], "constraints": ["b"]}
    assert result["taskSpec"]["env"] == wrap_secret({"P": "old"})
    assert "labels" not in result
    assert new["taskSpec"]["placement"]["platforms"] == [{"os": "windows"}], "inputs not mutated"
    _, invalid = process_ignore_changes({"a": []}, {"a": [1]}, ["a[0]"])
    assert invalid == ["a[0]"]


def test_ignore_changes_on_a_map_key_keeps_the_old_value_of_that_key_only() -> None:
    """pkg/resource/deploy/step_generator.go processIgnoreChanges, sdk/go/common/resource/
    properties_path.go PropertyPath.Reset:
    a path into a map resets that one key to its old value; a key absent from the olds is
    removed from the news, and the map's other keys keep their new values."""
    old = {"taskSpec": {"containerSpec": {"env": {"WAIT": "3", "MODE": "global"}}}}
    new = {"taskSpec": {"containerSpec": {"env": {"WAIT": "4", "MODE": "local"}}}}
    result, invalid = process_ignore_changes(new, old, ["taskSpec.containerSpec.env.WAIT"])
    assert invalid == []
    assert result["taskSpec"]["containerSpec"]["env"] == {"WAIT": "3", "MODE": "local"}
    created = {"taskSpec": {"containerSpec": {"env": {"MODE": "global"}}}}
    result, invalid = process_ignore_changes(new, created, ["taskSpec.containerSpec.env.WAIT"])
    assert invalid == []
    assert result["taskSpec"]["containerSpec"]["env"] == {"MODE": "local"}


def test_detailed_diff_is_leaf_by_leaf() -> None:
    """sdk/go/common/resource/plugin/provider.go NewDetailedDiffFromObjectDiff of
    PropertyMap.Diff: nested updates by path, adds and deletes, nulls absent, unknowns differ."""
    old = {"t": {"c": {"image": "a:1", "env": {"A": "1"}}}, "l": [1, 2], "gone": 1, "n": None}
    new = {"t": {"c": {"image": "a:2", "env": {"A": "1", "B": "2"}}}, "l": [1], "add": UNKNOWN}
    assert {k: v.kind for k, v in detailed_diff(old, new).items()} == {
        "t.c.image": "update",
        "t.c.env.B": "add",
        "l[1]": "delete",
        "gone": "delete",
        "add": "add",
    }
    assert detailed_diff({"a": "x"}, {"a": UNKNOWN}) == {"a": PropertyDiff("update")}
    assert detailed_diff({"s": wrap_secret("x")}, {"s": "x"}) == {}


def test_replace_on_changes_marks_matching_paths() -> None:
    """step_generator.go applyReplaceOnChanges: detailed diff entries inside a replaceOnChanges
    path become *-replace kinds and their top-level changed keys replace keys."""
    diff = DiffResult(
        changes=True,
        diffs=["triggers", "create"],
        detailed_diff={"triggers[0]": PropertyDiff("update"), "create": PropertyDiff("update")},
    )
    applied = apply_replace_on_changes(diff, ["triggers[*]"])
    assert applied.detailed_diff["triggers[0]"].kind == "update-replace"
    assert applied.detailed_diff["create"].kind == "update"
    assert applied.replaces == []  # "triggers" itself is not inside "triggers[*]"
    assert apply_replace_on_changes(diff, ["create"]).replaces == ["create"]
    assert apply_replace_on_changes(DiffResult(False), ["*"]) == DiffResult(False)


def test_default_handler_diff_reports_nested_paths() -> None:
    """The default Handler.diff (pulumi-command's and provider resources' top-level diff) with
    its detailed diff as NewDetailedDiffFromObjectDiff makes it, replace keys marked."""

    class Cmd(Handler):
        replace_keys = frozenset({"triggers"})

    old = ResourceState("u", "t", "n", True, inputs={"triggers": ["1"], "create": "a"})
    diff = Cmd(HandlerContext()).diff(old, {"triggers": ["2"], "create": "b"}, [])
    assert diff.diffs == ["create", "triggers"] and diff.replaces == ["triggers"]
    assert {k: v.kind for k, v in diff.detailed_diff.items()} == {
        "create": "update",
        "triggers[0]": "update-replace",
    }


# ---------------------------------------------------------------- secrets


def test_annotate_secrets_marks_only_the_secret_leaf() -> None:
    """pkg/resource/plugin/provider_plugin.go annotateSecrets: objects recurse, so one secret
    env var of a service's taskSpec makes only that value secret; a list holding a secret is made
    secret whole; then additionalSecretOutputs wrap whole keys (pkg/resource/deploy/
    step_executor.go, after Apply)."""
    inputs = {
        "taskSpec": {
            "containerSpec": {"image": "x:1", "env": {"RAWPASSWORD": wrap_secret("pw"), "A": "1"}}
        },
        "args": ["a", wrap_secret("b")],
    }
    outputs = {
        "taskSpec": {"containerSpec": {"image": "x:1", "env": {"RAWPASSWORD": "pw", "A": "1"}}},
        "args": ["a", "b"],
        "stdout": "tok",
        "none": None,
    }
    wrapped = rewrap_outputs(outputs, inputs, ["stdout"])
    assert redact(wrapped) == {
        "taskSpec": {
            "containerSpec": {"image": "x:1", "env": {"RAWPASSWORD": "[secret]", "A": "1"}}
        },
        "args": "[secret]",
        "stdout": "[secret]",
    }
    assert annotate_secrets({"a": 1}, {"b": wrap_secret(2)}) == {"a": 1}


def test_registrations_keep_secrets_where_they_are() -> None:
    """The engine unmarshals RegisterResource properties with KeepSecrets
    (pkg/resource/plugin/rpc.go UnmarshalPropertyValue): a nested secret stays a leaf, where the
    Python SDK's own deserializer would lift it to the enclosing object."""
    struct = struct_pb2.Struct()
    struct.update(
        {
            "taskSpec": {
                "env": {
                    "P": {SIG_KEY: "1b47061264138c4ac30d75fd1eb44270", "value": "pw"},
                    "A": "1",
                },
                "replicas": 2.0,
            },
            "id": UNKNOWN,
        }
    )
    value = from_wire(struct)
    assert value == {
        "taskSpec": {"env": {"P": wrap_secret("pw"), "A": "1"}, "replicas": 2},
        "id": UNKNOWN,
    }


# ---------------------------------------------------------------- engine with fake providers


class _Fake(Handler):
    """Records every call; `replace_keys` as given; Read answers from `live`."""

    def __init__(self, log: list[str], replace_keys: frozenset[str] | None = frozenset()) -> None:
        super().__init__(HandlerContext())
        self.log = log
        self.replace_keys = replace_keys
        self.live: dict[str, dict[str, Any] | None] = {}
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def _note(self, text: str) -> None:
        with self.lock:
            self.log.append(text)

    def create(self, res: Any) -> tuple[str, dict[str, Any]]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1
        self._note(f"create {res.name}")
        return f"id-{res.name}", dict(res.inputs)

    def update(self, res: Any, old: ResourceState) -> dict[str, Any]:
        self._note(f"update {res.name}")
        return dict(res.inputs)

    def delete(self, old: ResourceState) -> None:
        self._note(f"delete {old.name}")

    def read(self, old: ResourceState) -> dict[str, Any] | None:
        return self.live.get(old.name, old.outputs)


class _Registry:
    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers

    def handler(self, type_: str) -> Handler:
        return self.handlers[type_]


def _engine(resources: list[ResourceState], handlers: dict[str, Handler], **kw: Any) -> Engine:
    ctx = HandlerContext()
    engine = Engine(StackState("s", "p", resources), OpLog(quiet=True), ctx, None, 8, **kw)  # type: ignore[arg-type]
    engine.registry = _Registry(handlers)  # type: ignore[assignment]
    return engine


def _res(name: str, type_: str = "net", **kw: Any) -> ResourceState:
    return ResourceState(f"urn:{name}", type_, name, True, id=f"id-{name}", **kw)


def _reg(name: str, type_: str, inputs: dict[str, Any], **kw: Any) -> Registration:
    return Registration(f"urn:{name}", type_, name, True, inputs, **kw)


def _federation() -> list[ResourceState]:
    """net (encrypted) <- svc-a, svc-b (taskSpec from net's id); log depends on svc-a only by
    dependsOn; watcher's `target` comes from svc-b's outputs."""
    net_inputs = {"name": "fed", "encrypted": True}
    net = _res("net", inputs=net_inputs, outputs=net_inputs)

    def svc(name: str) -> ResourceState:
        inputs = {"name": name, "taskSpec": {"networks": ["id-net"], "image": "x:1"}}
        return _res(
            name,
            "svc",
            inputs=inputs,
            outputs=inputs,
            dependencies=["urn:net"],
            property_dependencies={"taskSpec": ["urn:net"]},
        )

    log = _res("log", "cmd", inputs={"create": "echo"}, dependencies=["urn:svc-a"])
    watcher = _res(
        "watcher",
        "cmd",
        inputs={"create": "watch", "target": "svc-b"},
        dependencies=["urn:svc-b"],
        property_dependencies={"target": ["urn:svc-b"]},
    )
    return [net, svc("svc-a"), svc("svc-b"), log, watcher]


def test_dependents_of_a_delete_before_replace_are_found_like_the_engine() -> None:
    """step_generator.go calculateDependentReplacements: transitive dependents (DependingOn),
    property dependencies set unknown, the provider's Diff (replaceOnChanges applied) decides;
    plain dependsOn edges and in-place-updatable properties do not replace."""
    log: list[str] = []
    handlers = {
        "net": _Fake(log, None),
        "svc": _Fake(log, frozenset({"taskSpec"})),
        "cmd": _Fake(log, frozenset()),
    }
    engine = _engine(_federation(), handlers)
    net = engine.prior_live["urn:net"]
    found = [(r.name, keys) for r, keys in engine.dependent_replacements(net)]
    assert found == [("svc-a", ["taskSpec"]), ("svc-b", ["taskSpec"])]
    # replaceOnChanges recorded on the dependent makes it replace too.
    engine.prior_live["urn:watcher"].replace_on_changes.append("target")
    found = [r.name for r, _ in engine.dependent_replacements(net)]
    assert found == ["svc-a", "svc-b", "watcher"]
    # A dependent already registered in this run is not considered.
    engine.seen.add("urn:svc-a")
    assert [r.name for r, _ in engine.dependent_replacements(net)] == ["svc-b", "watcher"]


def test_provider_replacement_replaces_its_resources() -> None:
    """calculateDependentReplacements requiresReplacement: a resource whose provider is in the
    replace set is replaced; step_generator.go providerChanged: a changed provider reference
    replaces when one side has no provider, or when the new provider's DiffConfig says so."""
    log: list[str] = []
    prov = _res("prov", "pulumi:providers:docker", inputs={"host": "a"})
    svc = _res("svc", "svc", inputs={"name": "s"}, provider="urn:prov::id-prov")
    handlers = {"pulumi:providers:docker": _Fake(log, None), "svc": _Fake(log, frozenset())}
    engine = _engine([prov, svc], handlers)
    assert [r.name for r, _ in engine.dependent_replacements(prov)] == ["svc"]
    reg = _reg("svc", "svc", {"name": "s"}, provider="")
    assert engine._provider_changed(svc, reg)
    engine.new["urn:prov2"] = _res("prov2", "pulumi:providers:docker", inputs={"host": "a"})
    reg = _reg("svc", "svc", {"name": "s"}, provider="urn:prov2::id-prov2")
    handlers["pulumi:providers:docker"] = _Fake(log, frozenset())  # DiffConfig: in place
    assert not engine._provider_changed(svc, reg)
    handlers["pulumi:providers:docker"] = _Fake(log, None)  # DiffConfig: replace
    engine.new["urn:prov2"].inputs = {"host": "b"}
    assert engine._provider_changed(svc, reg)


def test_delete_before_replace_deletes_dependents_first_then_recreates_them() -> None:
    """step_generator.go continueStepsFromDiff (deleteBeforeReplace: delete-replaced steps for
    the dependents in reverse dependency order, then the root, then replace/create-replacement)
    and GenerateSteps' "recreating" case: a dependent deleted that way is created again when it
    registers, and nothing is deleted twice at the end."""
    log: list[str] = []
    handlers = {
        "net": _Fake(log, None),
        "svc": _Fake(log, frozenset({"taskSpec"})),
        "cmd": _Fake(log, frozenset()),
    }
    engine = _engine(_federation(), handlers)
    net_reg = _reg(
        "net",
        "net",
        {"name": "fed", "encrypted": False},
        delete_before_replace=True,
        delete_before_replace_defined=True,
    )
    engine.register(net_reg)
    assert log == ["delete svc-b", "delete svc-a", "delete net", "create net"]
    inputs = {"name": "svc-a", "taskSpec": {"networks": ["id-net"], "image": "x:1"}}
    deps = {"taskSpec": ["urn:net"]}
    engine.register(_reg("svc-a", "svc", inputs, property_dependencies=deps))
    assert log[-1] == "create svc-a"
    # svc-b is no longer declared: it was deleted already, nothing more to delete for it.
    engine.register(_reg("log", "cmd", {"create": "echo"}, dependencies=["urn:svc-a"]))
    engine.register(_reg("watcher", "cmd", {"create": "watch", "target": "svc-b"}))
    assert [r.name for r in engine.removed_resources()] == []
    final = {r.name: r for r in engine.final_state(True).resources}
    assert set(final) == {"net", "svc-a", "log", "watcher"}
    assert final["net"].inputs["encrypted"] is False
    assert final["svc-a"].property_dependencies == deps
    ops = {o.name: o.op for o in engine.oplog.operations if o.reason != "replaced"}
    assert ops == {"net": "replace", "svc-a": "replace", "log": "same", "watcher": "same"}


def _unencrypted_network_replaced_first() -> Registration:
    """The network `net`, now unencrypted, replaced delete-before-replace."""
    return _reg(
        "net",
        "net",
        {"name": "fed", "encrypted": False},
        delete_before_replace=True,
        delete_before_replace_defined=True,
    )


def test_preview_records_steps_and_applies_nothing() -> None:
    """A preview (DryRun) runs the same step generation without applying steps; the digest
    counts logical steps only (pkg/engine/update.go `acts.Ops[op]++` when step.Logical()):
    create-replacement and delete-replaced are not counted, replace is."""
    log: list[str] = []
    handlers = {
        "net": _Fake(log, None),
        "svc": _Fake(log, frozenset({"taskSpec"})),
        "cmd": _Fake(log, frozenset()),
    }
    engine = _engine(_federation(), handlers, preview=True)
    net_id, net_out = engine.register(_unencrypted_network_replaced_first())
    assert (net_id, net_out["name"]) == ("", "fed"), "a replaced resource's id is unknown"
    svc_inputs = {"name": "svc-a", "taskSpec": {"networks": [UNKNOWN], "image": "x:1"}}
    engine.register(_reg("svc-a", "svc", svc_inputs))
    new_cmd = _reg("new", "cmd", {"create": "x"})
    assert engine.register(new_cmd) == ("", {"create": "x"})
    engine.register(_reg("log", "cmd", {"create": "echo2"}))
    engine.delete_all(engine.removed_resources())
    assert log == [], "a preview applies nothing"
    steps = [(s["op"], s["name"]) for s in engine.steps]
    assert steps == [
        ("delete-replaced", "svc-b"),
        ("delete-replaced", "svc-a"),
        ("delete-replaced", "net"),
        ("replace", "net"),
        ("create-replacement", "net"),
        ("replace", "svc-a"),
        ("create-replacement", "svc-a"),
        ("create", "new"),
        ("update", "log"),
        ("delete", "watcher"),
    ]
    summary = runner._logical_summary(engine.steps)
    assert summary == {"replace": 2, "create": 1, "update": 1, "delete": 1}
    assert engine.steps[3]["replaceReasons"] == ["encrypted"]
    assert engine.steps[3]["detailedDiff"] == {
        "encrypted": {"kind": "update-replace", "inputDiff": False}
    }


def test_a_recreated_dependent_has_its_keys_on_the_create_replacement_only() -> None:
    """pulumi/pulumi v3.259 pkg/resource/deploy/step_generator.go generateSteps "Case 1:
    recreating": a dependent deleted for a delete-before-replace comes back as
    NewReplaceStep(old, new, nil, nil, nil) (no replaceReasons, diffReasons or detailed diff)
    and NewCreateReplacementStep(..., keys, nil, nil) with dependentReplaceKeys (the keys
    calculateDependentReplacements found) and no diffs."""
    handlers = {
        "net": _Fake([], None),
        "svc": _Fake([], frozenset({"taskSpec"})),
        "cmd": _Fake([], frozenset()),
    }
    engine = _engine(_federation(), handlers, preview=True)
    engine.register(_unencrypted_network_replaced_first())
    engine.register(
        _reg("svc-a", "svc", {"name": "svc-a", "taskSpec": {"networks": [UNKNOWN], "image": "x:1"}})
    )
    steps = {(s["op"], s["name"]): s for s in engine.steps}
    replace = steps[("replace", "svc-a")]
    assert (replace["replaceReasons"], replace["diffReasons"], replace["detailedDiff"]) == (
        [],
        [],
        None,
    )
    created = steps[("create-replacement", "svc-a")]
    assert (created["replaceReasons"], created["diffReasons"], created["detailedDiff"]) == (
        ["taskSpec"],
        [],
        None,
    )


def test_ignore_changes_inputs_are_what_is_stored() -> None:
    """step_generator.go GenerateSteps: processIgnoreChanges runs before Check, and the
    processed inputs are what the update sends and the state keeps; a replacement re-checks the
    program's own inputs (Check without olds)."""
    log: list[str] = []
    old = _res("svc", "svc", inputs={"name": "s", "spec": {"image": "a", "platforms": ["x"]}})
    engine = _engine([old], {"svc": _Fake(log, frozenset({"name"}))})
    reg = _reg(
        "svc",
        "svc",
        {"name": "s", "spec": {"image": "b", "platforms": ["y"]}},
        ignore_changes=["spec.platforms"],
    )
    engine.register(reg)
    assert log == ["update svc"]
    stored = engine.new["urn:svc"]
    assert stored.inputs["spec"] == {"image": "b", "platforms": ["x"]}
    assert stored.ignore_changes == ["spec.platforms"]


def test_steps_run_at_most_parallel_at_once() -> None:
    """pkg/resource/deploy/step_executor.go: `parallel` workers run steps; the Python language
    host's pool is 4 x parallel (pulumi-language-python-exec `_set_default_executor`)."""
    log: list[str] = []
    handler = _Fake(log, frozenset())
    engine = _engine([], {"cmd": handler})
    engine.parallel = 2
    engine.slots = threading.BoundedSemaphore(2)
    threads = [
        threading.Thread(target=engine.register, args=(_reg(f"c{i}", "cmd", {"i": i}),))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log) == 8
    assert handler.most <= 2


def test_default_parallel_is_the_clis(monkeypatch: pytest.MonkeyPatch) -> None:
    """pkg/cmd/pulumi/operations/up.go defaultParallel: PULUMI_PARALLEL when above 0, else
    4 x GOMAXPROCS (the CPUs this process may run on)."""
    import os

    monkeypatch.delenv("PULUMI_PARALLEL", raising=False)
    assert runner.default_parallel() == 4 * len(os.sched_getaffinity(0))
    monkeypatch.setenv("PULUMI_PARALLEL", "3")
    assert runner.default_parallel() == 3
    monkeypatch.setenv("PULUMI_PARALLEL", "0")
    assert runner.default_parallel() == 4 * len(os.sched_getaffinity(0))


def test_refresh_drops_gone_resources_and_stores_read_outputs() -> None:
    """pkg/resource/deploy/step.go RefreshStep.Apply: Read returning no ID removes the resource
    from the state; otherwise its outputs are what Read returned, secrets annotated from the
    inputs (provider_plugin.go Read: annotateSecrets)."""
    log: list[str] = []
    handler = _Fake(log, frozenset())
    kept = _res("kept", "cmd", inputs={"pw": wrap_secret("s")}, outputs={"pw": wrap_secret("s")})
    gone = _res("gone", "cmd", inputs={"a": 1}, outputs={"a": 1})
    same = _res("same", "cmd", inputs={"a": 1}, outputs={"a": 1})
    handler.live = {"kept": {"pw": "s", "extra": 2}, "gone": None}
    saved: list[StackState] = []
    engine = _engine([kept, gone, same], {"cmd": handler}, checkpoint=saved.append)
    engine.refresh()
    state = {r.name: r for r in engine.final_state(False).resources}
    assert set(state) == {"kept", "same"}
    assert state["kept"].outputs == {"pw": wrap_secret("s"), "extra": 2}
    assert saved, "a refresh that changed the state is checkpointed"
    reasons = {o.name: o.reason for o in engine.oplog.operations}
    assert reasons == {"kept": "update", "gone": "delete", "same": "same"}


# ---------------------------------------------------------------- display


def _steps() -> list[dict[str, Any]]:
    base = {"parent": "", "provider": "", "id": "", "replaceReasons": [], "detailedDiff": None}
    old = {"name": "m", "taskSpec": {"image": "a:1", "env": {"P": wrap_secret("x")}}}
    new = {"name": "m", "taskSpec": {"image": "a:2", "env": {"P": wrap_secret("y")}}}
    # What Read stored: the image pinned by the registry's digest.
    outputs = {"name": "m", "taskSpec": {"image": "a:1@sha256:ab", "env": {"P": wrap_secret("x")}}}
    detailed = {
        "taskSpec.image": {"kind": "update", "inputDiff": False},
        "taskSpec.env.P": {"kind": "update", "inputDiff": False},
    }
    return [
        {
            **base,
            "op": "same",
            "urn": "urn:stack",
            "type": "pulumi:pulumi:Stack",
            "name": "p-s",
            "diffReasons": [],
            "logical": True,
            "old_inputs": {},
            "new_inputs": {},
            "diff": None,
        },
        {
            **base,
            "op": "update",
            "urn": "urn:svc",
            "type": "docker:index/service:Service",
            "name": "m",
            "id": "sid",
            "diffReasons": ["taskSpec"],
            "logical": True,
            "detailedDiff": detailed,
            "old_inputs": redact(old),
            "new_inputs": redact(new),
            "diff": translate_detailed_diff(detailed, outputs, old, new),
        },
        {
            **base,
            "op": "same",
            "urn": "urn:net",
            "type": "docker:index/network:Network",
            "name": "n",
            "diffReasons": [],
            "logical": True,
            "old_inputs": {},
            "new_inputs": {},
            "diff": None,
        },
        {
            **base,
            "op": "create-replacement",
            "urn": "urn:c",
            "type": "t",
            "name": "c",
            "diffReasons": [],
            "logical": False,
            "old_inputs": {},
            "new_inputs": {},
            "diff": None,
        },
    ]


def test_preview_json_is_the_clis_digest() -> None:
    """pkg/backend/display/json.go ShowPreviewDigest with display.go shouldShow: sames hidden
    unless --show-sames (the root stack always shown), replacement steps hidden unless
    --show-replacement-steps; pkg/display/json.go PreviewStep fields."""
    digest = json.loads(render_json(_steps(), {"same": 2, "update": 1}))
    assert [s["op"] for s in digest["steps"]] == ["same", "update"]
    assert digest["steps"][1] == {
        "op": "update",
        "urn": "urn:svc",
        "diffReasons": ["taskSpec"],
        "detailedDiff": {
            "taskSpec.image": {"kind": "update", "inputDiff": False},
            "taskSpec.env.P": {"kind": "update", "inputDiff": False},
        },
    }
    assert digest["changeSummary"] == {"same": 2, "update": 1}
    every = json.loads(render_json(_steps(), {}, show_sames=True, show_replacement_steps=True))
    assert len(every["steps"]) == 4


def test_preview_diff_prints_nested_changes_and_masks_secrets() -> None:
    """pkg/backend/display/object_diff.go getResourcePropertiesSummary/printObjectDiff/
    printPropertyValueDiff and diff.go renderSummaryEvent: op symbol and type, [id]/[urn] lines,
    nested `~ key: {` blocks, `old => new`, secrets as [secret]."""
    text = render_diff(_steps(), {"same": 2, "update": 1}, "dev")
    assert text.splitlines() == [
        "Previewing update (dev):",
        "  pulumi:pulumi:Stack: (same)",
        "    [urn=urn:stack]",
        "    ~ docker:index/service:Service: (update)",
        "        [id=sid]",
        "        [urn=urn:svc]",
        "      ~ taskSpec: {",
        "          ~ env  : {",
        "              ~ P: [secret] => [secret]",
        "            }",
        '          ~ image: "a:1@sha256:ab" => "a:2"',
        "        }",
        "Resources:",
        "    ~ 1 to update",
        "    2 unchanged",
    ]
    assert "x" not in text.replace("index", "").replace("Previewing", "")


def test_diff_view_renders_old_outputs_against_new_inputs() -> None:
    """pulumi/pulumi v3.259 (the 3.x line read) pkg/engine/detailedDiff.go
    TranslateDetailedDiff/addDiff/getProperty: each detailed-diff path takes its old value from
    the step's old outputs (inputDiff false, as pulumi-command through pulumi-go-provider v1.3.0
    infer/resource.go and the bridge's makeDetailedDiffV2 report it), or its old inputs
    (inputDiff true); the new value always from the new inputs. A leaf missing on its side is
    unknown; a property null on one side above the leaf is added or deleted whole. Only the
    paths listed print, and a path the provider calls an update prints `old => new` even when
    the inputs agree (a tag-only image against the pinned one Read stored)."""
    old_inputs = {"image": "r:1", "labels": {"a": "1"}, "env": {"K": ""}}
    old_outputs = {"image": "r:1@sha256:ab", "labels": {"a": "1"}, "env": {"K": ""}, "id": "x"}
    new_inputs = {"image": "r:1", "labels": {"a": "2"}, "env": {"K": UNKNOWN}, "mounts": [{"t": 1}]}
    detailed = {
        "image": {"kind": "update", "inputDiff": False},
        "labels.a": {"kind": "update", "inputDiff": True},
        "env.K": {"kind": "update", "inputDiff": False},
        "mounts[0].t": {"kind": "add", "inputDiff": False},
        "gone": {"kind": "delete", "inputDiff": False},
    }
    diff = translate_detailed_diff(detailed, old_outputs, old_inputs, new_inputs)
    assert diff == {
        "env": {"object": {"K": {"old": "", "new": "[unknown]"}}},
        "gone": {"delete": "[unknown]"},
        "image": {"old": "r:1@sha256:ab", "new": "r:1"},
        "labels": {"object": {"a": {"old": "1", "new": "2"}}},
        "mounts": {"add": [{"t": 1}]},
    }
    step = {
        "op": "update",
        "urn": "urn:s",
        "type": "docker:index/service:Service",
        "name": "s",
        "parent": "",
        "provider": "",
        "id": "",
        "diffReasons": ["image"],
        "replaceReasons": [],
        "detailedDiff": detailed,
        "logical": True,
        "old_inputs": old_inputs,
        "new_inputs": new_inputs,
        "diff": diff,
    }
    lines = render_diff([step], {"update": 1}, "dev").splitlines()
    # object_diff.go printPropertyValueDiff: an empty old string does not print, so an unknown
    # replacing it is an add (`+`), and unknowns print `[unknown]`.
    assert lines[3:] == [
        "  ~ env   : {",
        "      + K: [unknown]",
        "    }",
        "  - gone  : [unknown]",
        '  ~ image : "r:1@sha256:ab" => "r:1"',
        "  ~ labels: {",
        '      ~ a: "1" => "2"',
        "    }",
        "  + mounts: [",
        "  +     [0]: {",
        "          + t: 1",
        "        }",
        "    ]",
        "Resources:",
        "    ~ 1 to update",
    ]
    assert translate_detailed_diff({}, old_outputs, old_inputs, new_inputs) is None


def test_summary_counts_like_the_cli() -> None:
    """pkg/backend/display/diff.go renderSummaryEvent: one line per kind in StepOps order,
    "N changes" only for two kinds or more, then "M unchanged"."""
    assert render_summary({"create": 2, "replace": 1, "same": 3}) == [
        "Resources:",
        "    + 2 to create",
        "    +-1 to replace",
        "    3 changes. 3 unchanged",
    ]
