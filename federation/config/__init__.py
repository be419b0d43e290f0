"""Stack configuration: the user-facing contract, its defaults and its validation.

Every value a user puts in a stack file passes through this package before any resource exists:
`model` (the settings and their single-value checks), `validation` (the checks across fields, all
problems reported together), `reading` (pulumi.Config into settings) and `images` (image
references).
"""

from federation.config.images import IMAGE_RE, has_digest, image_problem, is_floating_tag
from federation.config.model import (
    EXAREME_OVERLAY,
    ExaremeSettings,
    FederationConfig,
    LdsmSettings,
    NetworkSettings,
    NodeSettings,
    PortalSettings,
    SshSettings,
    StackSettings,
    SwarmSettings,
)
from federation.config.reading import (
    NAMESPACE,
    UNSET_DEFAULTS,
    known_keys,
    load_config,
    read_raw,
    secret_keys_of,
)
from federation.config.validation import ConfigError, validate
from policy.guardrails.stacks import is_prod

__all__ = [
    "EXAREME_OVERLAY",
    "IMAGE_RE",
    "NAMESPACE",
    "UNSET_DEFAULTS",
    "ConfigError",
    "ExaremeSettings",
    "FederationConfig",
    "LdsmSettings",
    "NetworkSettings",
    "NodeSettings",
    "PortalSettings",
    "SshSettings",
    "StackSettings",
    "SwarmSettings",
    "has_digest",
    "image_problem",
    "is_floating_tag",
    "is_prod",
    "known_keys",
    "load_config",
    "read_raw",
    "secret_keys_of",
    "validate",
]
