"""The guard rails as pulumi-policy policies: thin wrappers over the pure checks in rules.py.

Only pulumi-policy's public API (what `pulumi_policy` exports) is used: the policies, their args,
config schemas and enforcement levels. The engine hands a policy its resource inputs as read-only
mappings and sequences on which reading a value that is unknown during a preview raises
(pulumi-policy's UnknownValueError); plain() copies them into dicts and lists with such values as
rules.UNKNOWN, so a check skips only what it cannot know and still checks the rest.

Prod is read from the resource's URN (urn:pulumi:<stack>::...): `prod` and `prod-*`, as the
program's own validation, plus any stack listed in the policy config `prodStacks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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

from . import rules, stacks

PROD_STACKS_SCHEMA = PolicyConfigSchema(
    properties={
        "prodStacks": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Stacks treated as prod besides `prod` and `prod-*`.",
        }
    }
)

# A check: the resource's type, its plain properties, whether its stack is prod -> problems.
Check = Callable[[str, rules.Props, bool], list[str]]


def plain(value: Any) -> Any:
    """A plain copy (dicts, lists, scalars) of properties as the engine hands them to a policy,
    with every value unknown during a preview replaced by rules.UNKNOWN."""
    if isinstance(value, Mapping):
        return {key: _read(value, key) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_read(value, index) for index in range(len(value))]
    return value


def _read(container: Any, key: Any) -> Any:
    try:
        value = container[key]
    except Exception as error:
        # pulumi-policy raises UnknownValueError here for a value not known yet; the class is not
        # exported, so it is recognized by name, and anything else propagates.
        if type(error).__name__ != "UnknownValueError":
            raise
        return rules.UNKNOWN
    return plain(value)


def in_prod(args: ResourceValidationArgs | StackValidationArgs, urn: str) -> bool:
    """Whether the resource at `urn` is in a prod stack (stacks.is_prod, with `prodStacks`)."""
    prod_stacks = (args.get_config() or {}).get("prodStacks") or ()
    return stacks.is_prod(rules.stack_of(urn), prod_stacks)


def prod_only(check: Callable[[str, rules.Props], list[str]]) -> Check:
    def checked_in_prod(typ: str, props: rules.Props, prod: bool) -> list[str]:
        return check(typ, props) if prod else []

    return checked_in_prod


def everywhere(check: Callable[[str, rules.Props], list[str]]) -> Check:
    def checked(typ: str, props: rules.Props, prod: bool) -> list[str]:
        return check(typ, props)

    return checked


def pinned_images(typ: str, props: rules.Props, prod: bool) -> list[str]:
    return rules.floating_images(typ, props, prod=prod)


def resource_validation(check: Check) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        prod = in_prod(args, args.urn)
        for problem in check(args.resource_type, plain(args.props), prod):
            report_violation(f"{args.name}: {problem}", None)

    return validate


def resource_policy(
    name: str, description: str, check: Check, *, prod_rules: bool = True
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=resource_validation(check),
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PROD_STACKS_SCHEMA if prod_rules else None,
    )


def validate_managers(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = [(r.resource_type, plain(r.props)) for r in args.resources]
    for problem in rules.even_managers(resources):
        report_violation(problem, None)


ENCRYPTED_OVERLAY = resource_policy(
    "encrypted-overlay-network",
    "In prod, the overlay network must be created with encryption (--opt encrypted).",
    prod_only(rules.unencrypted_overlay),
)
PINNED_IMAGES = resource_policy(
    "pinned-images",
    "Images must have a version tag or a digest: no `latest`, no untagged reference. In prod, "
    "service images must be pinned by digest (repository:tag@sha256:<digest>).",
    pinned_images,
)
HOST_KEY_CHECKING = resource_policy(
    "ssh-host-key-checking",
    "In prod, every SSH connection checks the host key: commands pin hostKey, and the docker "
    "provider's ssh options do not disable StrictHostKeyChecking.",
    prod_only(rules.unchecked_host_keys),
)
NO_SECRETS_IN_COMMANDS = resource_policy(
    "no-secrets-in-commands",
    "A remote command's create/update/delete text holds no secret (it is stored in plain text "
    "and quoted in error messages); secrets go on stdin.",
    everywhere(rules.secrets_in_commands),
    prod_rules=False,
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
