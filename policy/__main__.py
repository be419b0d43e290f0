"""The mip-federation policy pack: `pulumi preview --policy-pack policy` (see docs/previews.md).

The policies live in guardrails/ so they can be tested without the engine; this file only serves
them to the Pulumi CLI (constructing a PolicyPack starts the analyzer and never returns).
"""

from guardrails.policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="mip-federation-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
