"""The ops log's dependency edges (tests/engine/oplog.py step_dependencies), which the benchmark's
step DAG (bench/dag.py) projects from."""

from __future__ import annotations

from typing import Any

from tests.engine.engine import Engine
from tests.engine.oplog import OpLog, step_dependencies
from tests.engine.providers.base import Handler, HandlerContext
from tests.engine.registration import Registration
from tests.engine.state import StackState


def test_a_step_waits_for_its_inputs_depends_on_provider_and_parent() -> None:
    """pulumi/pulumi sdk/python/lib/pulumi/runtime/resource.py prepare_resource: the request's
    dependencies are `depends_on` plus every input's resources (expanded from components by
    rpc._expand_dependencies), the provider reference is "URN::ID" (its ID known only once the
    provider's step is done) and the parent's URN is awaited. Each URN counts once."""
    waits = step_dependencies(
        parent="urn:parent",
        provider="urn:pulumi:s::p::pulumi:providers:docker::leader::7f3c-id",
        dependencies=["urn:net", "urn:init"],
        property_dependencies={"taskSpec": ["urn:net", "urn:secret"], "name": []},
    )
    assert waits == sorted(
        [
            "urn:init",
            "urn:net",
            "urn:parent",
            "urn:pulumi:s::p::pulumi:providers:docker::leader",
            "urn:secret",
        ]
    )


def test_a_step_with_no_parent_or_provider_waits_for_nothing_else() -> None:
    assert step_dependencies("", "", [], {}) == []
    assert step_dependencies("", "", [], {"create": ["urn:a"]}) == ["urn:a"]


class _Created(Handler):
    def create(self, res: Any) -> tuple[str, dict[str, Any]]:
        return f"id-{res.name}", dict(res.inputs)


class _Registry:
    def handler(self, type_: str) -> Handler:
        return _Created(HandlerContext())


def test_the_ops_log_records_each_steps_dependencies() -> None:
    """The engine double writes step_dependencies into each operation (Operation.deps): a
    create that no registration names as a dependency has an empty list."""
    engine = Engine(StackState("s", "p", []), OpLog(quiet=True), HandlerContext(), None, 8)  # type: ignore[arg-type]
    engine.registry = _Registry()  # type: ignore[assignment]
    engine.register(Registration("urn:net", "net", "net", True, {"name": "fed"}))
    engine.register(
        Registration(
            "urn:svc",
            "svc",
            "svc",
            True,
            {"network": "id"},
            dependencies=["urn:net"],
            property_dependencies={"network": ["urn:net"]},
        )
    )
    deps = {o.name: o.deps for o in engine.oplog.operations}
    assert deps == {"net": [], "svc": ["urn:net"]}
