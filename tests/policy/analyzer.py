"""Recorded resources as the Pulumi engine hands them to a policy pack.

The engine deserializes a resource's inputs (secrets unwrapped) and wraps them in pulumi-policy's
unknown-checking proxy; the same functions do it here to the inputs recorded under mocks.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from tests.program import Evaluation, Recorded

PROJECT = "mip-federation"


def urn(stack: str, typ: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{typ}::{name}"


def props_of(inputs: dict[str, Any]) -> Any:
    return unknown_checking_proxy(deserialize_properties(inputs))


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource_args(
    recorded: Recorded, stack: str, config: dict[str, Any] | None = None
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        recorded.typ,
        props_of(recorded.inputs),
        urn(stack, recorded.typ, recorded.name),
        recorded.name,
        options(),
        None,
        config,
    )


def stack_args(
    resources: list[Recorded], stack: str, config: dict[str, Any] | None = None
) -> StackValidationArgs:
    return StackValidationArgs(
        [
            PolicyResource(
                r.typ,
                props_of(r.inputs),
                urn(stack, r.typ, r.name),
                r.name,
                options(),
                None,
                None,
                [],
                {},
            )
            for r in resources
        ],
        config,
    )


def violations(
    policy: Policy,
    resources: list[Recorded] | Evaluation,
    stack: str,
    config: dict[str, Any] | None = None,
) -> list[str]:
    """Every violation `policy` reports on the resources, as the engine would run it."""
    found: list[str] = []

    def report(message: str, _urn: str | None = None) -> None:
        found.append(message)

    recorded = resources.resources if isinstance(resources, Evaluation) else resources
    if isinstance(policy, ResourceValidationPolicy):
        for resource in recorded:
            policy.validate(resource_args(resource, stack, config), report)
    elif isinstance(policy, StackValidationPolicy):
        policy.validate(stack_args(recorded, stack, config), report)
    return found
