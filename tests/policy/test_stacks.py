"""Which stacks are prod: the one rule the program's validation and the policy pack share."""

from __future__ import annotations

import subprocess
import sys

import federation.config
from policy.guardrails import stacks
from tests.program import ROOT


def test_prod_and_prod_dash_stacks_are_prod_and_prod_stacks_adds_more():
    assert stacks.is_prod("prod") and stacks.is_prod("prod-eu")
    assert not stacks.is_prod("production") and not stacks.is_prod("dev-prod")
    assert stacks.is_prod("production", ["production"])


def test_the_program_uses_the_same_rule_without_loading_pulumi_policy():
    assert federation.config.is_prod is stacks.is_prod
    # The program's venv has no pulumi-policy (requirements.txt): the rule must not need it.
    check = "import sys, federation; assert 'pulumi_policy' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True, capture_output=True)
