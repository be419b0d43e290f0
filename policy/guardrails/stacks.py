"""Which stacks are prod: one rule for the program's validation (federation.config) and the policy
pack. Standard library only, so that the program's venv and the pack's can both load it."""

from __future__ import annotations

from collections.abc import Sequence


def is_prod(stack: str, prod_stacks: Sequence[str] = ()) -> bool:
    """`prod` and `prod-*`, or a stack listed in `prod_stacks` (the policy config `prodStacks`)."""
    return stack == "prod" or stack.startswith("prod-") or stack in prod_stacks
