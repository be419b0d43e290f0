"""The GitHub Actions workflow: valid against GitHub's workflow schema, and doing what users need
(tests, a preview per stack commented on the pull request, a nightly no-drift check on prod)."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.program import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
WORKFLOW = ROOT / ".github" / "workflows" / "pulumi.yml"
STACKS = {p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml")}
LAB_STACKS = {"dev"}  # the local lab's stack: applied with `python -m tests.lab deploy`, no backend
# Inputs of pulumi/actions v7 (its action.yml): a misspelt input is silently ignored by GitHub.
PULUMI_ACTION_INPUTS = {
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir",
    "comment-on-pr", "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url",
    "secrets-provider", "parallel", "message", "config-map", "expect-no-changes", "diff",
    "replace", "exclude", "exclude-dependents", "target", "target-dependents", "policyPacks",
    "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment", "color",
    "exclude-protected", "plan", "suppress-outputs", "suppress-progress",
    "always-include-summary", "continue-on-error", "log-verbosity", "log-flow", "debug",
}  # fmt: skip
SECRET_EXPR = re.compile(r"^\$\{\{\s*secrets\.[A-Z0-9_]+\s*\}\}$")


class _GitHubYaml(yaml.SafeLoader):
    """YAML 1.2 booleans, as GitHub reads them: `on` is a key, only true/false are booleans."""


_BOOL = "tag:yaml.org,2002:bool"
_GitHubYaml.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_GitHubYaml.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), None
)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_GitHubYaml)  # noqa: S506
    return document


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(WORKFLOW)


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith("pulumi/actions@")]


def is_true(value: Any) -> bool:
    return value is True


def test_workflows_exist():
    assert WORKFLOW in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid_against_githubs_schema(path):
    schema_file = (
        resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    )
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(load(path), schema)


def test_schema_check_rejects_a_broken_workflow(workflow):
    schema_file = (
        resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    )
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    broken = {**workflow, "jobs": {"preview": {"steps": [{"uses": "pulumi/actions@v7"}]}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)  # a job without runs-on


def test_triggers(workflow):
    triggers = workflow["on"]
    assert {"pull_request", "schedule"} <= set(triggers)
    assert all("cron" in entry for entry in triggers["schedule"])


def test_the_tests_run_before_any_preview(workflow):
    test_job = workflow["jobs"]["test"]
    commands = " ".join(str(s.get("run", "")) for s in steps(test_job))
    assert "pytest" in commands and "ruff check" in commands and "mypy federation" in commands
    assert "requirements.txt" in commands
    assert workflow["jobs"]["preview"]["needs"] == "test"


def test_every_stack_is_previewed_with_its_diff_on_the_pull_request(workflow):
    preview = workflow["jobs"]["preview"]
    stacks = preview["strategy"]["matrix"]["stack"]
    assert set(stacks) <= STACKS, "the matrix names a stack without a Pulumi.<stack>.yaml"
    assert set(stacks) == STACKS - LAB_STACKS, "a stack file is not previewed: add it to the matrix"
    assert "pull_request" in preview["if"]
    assert preview["permissions"]["pull-requests"] == "write"
    [step] = pulumi_steps(preview)
    inputs = step["with"]
    assert inputs["command"] == "preview"
    assert inputs["stack-name"] == "${{ matrix.stack }}"
    assert is_true(inputs["diff"]) and is_true(inputs["comment-on-pr"])
    assert SECRET_EXPR.match(inputs["github-token"])
    assert inputs["policyPacks"] == "policy"


def test_previews_use_the_self_managed_backend_and_the_passphrase(workflow):
    for name in ("preview", "drift"):
        job = workflow["jobs"][name]
        [step] = pulumi_steps(job)
        inputs = step["with"]
        assert SECRET_EXPR.match(inputs["cloud-url"]), "cloud-url comes from a secret"
        assert inputs["secrets-provider"] == "passphrase"
        env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
        assert SECRET_EXPR.match(env["PULUMI_CONFIG_PASSPHRASE"])
        assert set(inputs) <= PULUMI_ACTION_INPUTS, set(inputs) - PULUMI_ACTION_INPUTS
        commands = " ".join(str(s.get("run", "")) for s in steps(job))
        assert "pip install -q -r requirements.txt" in commands, "the program's venv"
        assert "policy/venv/bin/pip install -q -r policy/requirements.txt" in commands


def test_nightly_prod_preview_expects_no_changes(workflow):
    drift = workflow["jobs"]["drift"]
    assert "schedule" in drift["if"]
    [step] = pulumi_steps(drift)
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "prod"
    assert is_true(step["with"]["expect-no-changes"])


def test_no_secret_is_exposed_beyond_the_pulumi_steps(workflow):
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            text = json.dumps({k: v for k, v in step.items() if k != "with"})
            if "secrets." in text:
                assert step in pulumi_steps(job), f"{name}: {step.get('name')} sees a secret"
    assert "secrets." not in json.dumps(workflow.get("env", {}))
