"""A resource monitor for Pulumi's mock runtime that hands every registration to the engine
with everything the real engine would see (dependencies, parent, provider, options)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from tests.engine.engine import Engine
from tests.engine.props import from_wire, normalize
from tests.engine.registration import Registration

# pulumi.runtime.sync_await is untyped: the loop setup takes no argument and returns nothing.
ensure_event_loop: Callable[[], None] = _ensure_event_loop

STACK_TYPE = "pulumi:pulumi:Stack"


class UnsupportedMocks(Mocks):
    """Invokes and reads are not part of what the engine double applies: say so clearly."""

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise NotImplementedError(
            f"the engine double does not implement invoke {args.token!r} (data sources)"
        )

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        raise NotImplementedError(
            f"the engine double does not read existing resources ({args.typ} {args.name!r})"
        )


class EngineMonitor(MockMonitor):
    def __init__(self, engine: Engine) -> None:
        super().__init__(UnsupportedMocks())
        self.engine = engine

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """Like the real engine: the root stack is not part of a child's qualified type."""
        if parent and parent.split("::")[2] == STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.engine.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        ensure_event_loop()
        inputs = from_wire(request.object)
        reg = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=inputs,
            parent=request.parent,
            provider=request.provider,
            dependencies=sorted(set(request.dependencies)),
            delete_before_replace=bool(request.deleteBeforeReplace),
            delete_before_replace_defined=bool(request.deleteBeforeReplaceDefined),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            replace_on_changes=list(request.replaceOnChanges),
            ignore_changes=list(request.ignoreChanges),
            import_id=request.importId,
            retain_on_delete=bool(request.retainOnDelete),
            property_dependencies={
                str(key): sorted(set(deps.urns))
                for key, deps in request.propertyDependencies.items()
                if deps.urns
            },
        )
        if reg.import_id:
            raise NotImplementedError(f"{reg.name}: the engine double does not import resources")
        resource_id, outputs = self.engine.register(reg)
        obj = _sync_await(rpc.serialize_properties(outputs, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, outputs)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        ensure_event_loop()
        outputs = normalize(rpc.deserialize_properties(request.outputs))
        self.engine.register_outputs(request.urn, outputs)
        return empty_pb2.Empty()
