"""The guard rails as pulumi-policy policies: thin wrappers over the pure checks in rules.py.

Prod is read from the resource's URN (urn:pulumi:<stack>::...): `prod` and `prod-*`, as the
program's own validation, plus any stack listed in the policy config `prodStacks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import serialize_properties

from . import rules

PROD_STACKS_SCHEMA = PolicyConfigSchema(
    properties={
        "prodStacks": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Stacks treated as prod besides `prod` and `prod-*`.",
        }
    }
)

Check = Callable[[str, rules.Props], list[str]]


def plain(props: Mapping[str, Any]) -> dict[str, Any]:
    """Properties without the SDK's unknown-checking proxies; unknowns stay as sentinels."""
    return dict(serialize_properties(props))


def _is_prod(args: ResourceValidationArgs | StackValidationArgs, urn: str) -> bool:
    return rules.is_prod(rules.stack_of(urn), args.get_config().get("prodStacks"))


def _resource_validation(check: Check, *, prod_only: bool) -> Callable[..., None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if prod_only and not _is_prod(args, args.urn):
            return
        for problem in check(args.resource_type, plain(args.props)):
            report_violation(f"{args.name}: {problem}", None)

    return validate


def _resource_policy(
    name: str, description: str, check: Check, *, prod_only: bool
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=_resource_validation(check, prod_only=prod_only),
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PROD_STACKS_SCHEMA if prod_only else None,
    )


def validate_managers(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = [(r.resource_type, plain(r.props)) for r in args.resources]
    for problem in rules.even_managers(resources):
        report_violation(problem, None)


ENCRYPTED_OVERLAY = _resource_policy(
    "encrypted-overlay-network",
    "In prod, the overlay network must be created with encryption (--opt encrypted).",
    rules.unencrypted_overlay,
    prod_only=True,
)
PINNED_IMAGES = _resource_policy(
    "pinned-images",
    "Images must have a version tag or a digest: no `latest`, no untagged reference.",
    rules.floating_images,
    prod_only=False,
)
HOST_KEY_CHECKING = _resource_policy(
    "ssh-host-key-checking",
    "In prod, every SSH connection checks the host key: commands pin hostKey, and the docker "
    "provider's ssh options do not disable StrictHostKeyChecking.",
    rules.unchecked_host_keys,
    prod_only=True,
)
NO_SECRETS_IN_COMMANDS = _resource_policy(
    "no-secrets-in-commands",
    "A remote command's create/update/delete text holds no secret (it is stored in plain text "
    "and quoted in error messages); secrets go on stdin.",
    rules.secrets_in_commands,
    prod_only=False,
)
ODD_MANAGERS = StackValidationPolicy(
    name="odd-manager-count",
    description="The swarm has an odd number of managers (1, 3, 5 or 7) to keep quorum.",
    validate=validate_managers,
    enforcement_level=EnforcementLevel.MANDATORY,
)

POLICIES: list[Policy] = [
    ENCRYPTED_OVERLAY,
    PINNED_IMAGES,
    HOST_KEY_CHECKING,
    NO_SECRETS_IN_COMMANDS,
    ODD_MANAGERS,
]
