"""The GitHub Actions workflow: valid against GitHub's workflow schema, and doing what users need
(tests, a preview per stack commented on the pull request, a nightly no-drift check on prod),
and skipping those two with a notice where no backend is configured."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.program import ROOT, STACK_FILES

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
WORKFLOW = ROOT / ".github" / "workflows" / "pulumi.yml"
STACKS = {p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACK_FILES}
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
# A step that is not a Pulumi step may only ask whether a secret is set: `secrets.NAME != ''`.
SECRET_PRESENCE = re.compile(r"\$\{\{\s*secrets\.[A-Z0-9_]+\s*!=\s*''\s*\}\}")
# An S3 backend needs its region (else "MissingRegion"); awssdk=v2 as Pulumi's DIY backend docs.
CLOUD_URL = "${{ secrets.PULUMI_BACKEND_URL }}?region=${{ vars.PULUMI_BACKEND_REGION }}&awssdk=v2"
# The one documented command that creates the policy pack's venv (docs/first-deployment.md): the
# Python language host's RunPlugin runs policy/venv/bin/python and installs nothing.
POLICY_INSTALL = (
    "python3 -m venv policy/venv && policy/venv/bin/pip install -r policy/requirements.txt"
)
BACKEND_SECRETS = {
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower().replace("_", "-") == package:
            return version.strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


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
    """The pulumi/actions steps that run a command (one that only installs the CLI has none)."""
    return [
        s
        for s in steps(job)
        if str(s.get("uses", "")).startswith("pulumi/actions@") and "command" in s.get("with", {})
    ]


def cli_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Steps that run only the Pulumi CLI (and gh, to comment): they may see the secrets."""
    return [
        s
        for s in steps(job)
        if "run" in s and (s.get("id") == "stack" or "gh pr comment" in str(s["run"]))
    ]


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
    assert "pip install -q -r requirements-dev.txt" in commands, "tests need the dev tools"
    assert "test" in workflow["jobs"]["preview"]["needs"]


def test_the_program_is_evaluated_on_python_3_10_with_its_own_requirements_only(workflow):
    [job] = [
        j
        for j in workflow["jobs"].values()
        if any(s.get("with", {}).get("python-version") == "3.10" for s in steps(j))
    ]
    commands = " ".join(str(s.get("run", "")) for s in steps(job))
    assert "pip install -q -r requirements.txt" in commands
    assert "requirements-dev.txt" not in commands
    assert "python -m federation.plan" in commands


def test_every_stack_is_previewed_with_its_diff_on_the_pull_request(workflow):
    preview = workflow["jobs"]["preview"]
    stacks = preview["strategy"]["matrix"]["stack"]
    assert set(stacks) <= STACKS, "the matrix names a stack without a Pulumi.<stack>.yaml"
    assert set(stacks) == STACKS, "a stack file is not previewed: add it to the matrix"
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
        assert inputs["cloud-url"] == CLOUD_URL, "the bucket from a secret, its region, awssdk=v2"
        # pulumi/actions uses secrets-provider only to create a missing stack (upsert: true); the
        # stacks exist (an operator's `pulumi stack init`), so it must not pretend otherwise.
        assert "secrets-provider" not in inputs or is_true(inputs.get("upsert"))
        env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
        assert SECRET_EXPR.match(env["PULUMI_CONFIG_PASSPHRASE"])
        assert set(inputs) <= PULUMI_ACTION_INPUTS, set(inputs) - PULUMI_ACTION_INPUTS
        commands = " ".join(str(s.get("run", "")) for s in steps(job))
        assert "pip install -q -r requirements.txt" in commands, "the program's venv"
        assert POLICY_INSTALL in commands, "the guide's one command for the policy pack"


def test_the_cli_is_the_release_of_the_pinned_sdk(workflow):
    sdk = pinned("pulumi")
    steps_ = [s for job in workflow["jobs"].values() for s in pulumi_steps(job)]
    assert steps_
    for step in steps_:
        assert str(step["with"].get("pulumi-version")) == sdk, "pulumi-version != pulumi SDK pin"


def test_nightly_prod_preview_expects_no_changes(workflow):
    drift = workflow["jobs"]["drift"]
    assert "schedule" in drift["if"]
    [step] = pulumi_steps(drift)
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "prod"
    assert is_true(step["with"]["expect-no-changes"])


def test_the_drift_check_runs_only_once_prod_is_deployed(workflow):
    assert "vars.PROD_DEPLOYED == 'true'" in workflow["jobs"]["drift"]["if"]


def test_preview_and_drift_wait_for_a_configured_backend(workflow):
    gate = workflow["jobs"]["backend"]
    assert gate["outputs"]["configured"] == "${{ steps.check.outputs.configured }}"
    for name in ("preview", "drift"):
        job = workflow["jobs"][name]
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        assert "backend" in needs
        assert "needs.backend.outputs.configured == 'true'" in job["if"]
    assert "vars.PULUMI_BACKEND_REGION" in json.dumps(gate)


# The jobs that get the backend's secrets, and the environment each gets them from: `preview`
# has required reviewers (a same-repository pull request can change this workflow), `drift`
# only lets main deploy (docs/previews.md).
SECRET_ENVIRONMENTS = {"preview": "preview", "drift": "drift"}


def test_every_job_that_uses_the_backend_secrets_runs_in_its_environment(workflow):
    users = {
        name
        for name, job in workflow["jobs"].items()
        if any(f"secrets.{secret}" in json.dumps(job) for secret in BACKEND_SECRETS)
    }
    assert users == set(SECRET_ENVIRONMENTS)
    for name in users:
        assert workflow["jobs"][name].get("environment") == SECRET_ENVIRONMENTS[name], name
    # The gate runs with no environment (no approval to wait for) and so reads no secret: an
    # environment's secrets are only given to a job that names it.
    assert "secrets." not in json.dumps(workflow["jobs"]["backend"])


def test_the_environments_and_their_settings_are_documented():
    previews = (ROOT / "docs" / "previews.md").read_text(encoding="utf-8")
    for environment in set(SECRET_ENVIRONMENTS.values()):
        assert f"`{environment}`" in previews
    for words in ("Required reviewers", "Deployment branches", "forks"):
        assert words in previews, words


def test_the_environment_jobs_check_their_secrets_first(workflow):
    for name, environment in SECRET_ENVIRONMENTS.items():
        first = steps(workflow["jobs"][name])[0]
        assert first["id"] == "secrets"
        assert first["env"]["ENVIRONMENT"] == environment
        checked = json.dumps(first["env"])
        for secret in BACKEND_SECRETS:
            assert f"secrets.{secret} != ''" in checked, f"{name}: {secret} is not checked"


def run_secrets_check(workflow, job: str, **env: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    step = steps(workflow["jobs"][job])[0]
    full_env = {
        "PATH": os.environ["PATH"],
        **{k: "true" for k in step["env"] if k.startswith("HAS_")},
        "ENVIRONMENT": step["env"]["ENVIRONMENT"],
        **env,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("job", sorted(SECRET_ENVIRONMENTS))
def test_an_environment_without_its_secrets_fails_naming_them(workflow, job):
    assert run_secrets_check(workflow, job).returncode == 0
    done = run_secrets_check(workflow, job, HAS_PASSPHRASE="false", HAS_AWS_SECRET="false")
    assert done.returncode == 1
    environment = SECRET_ENVIRONMENTS[job]
    assert done.stdout.startswith(
        f"::error title=Pulumi backend::The environment {environment} has no secret "
        "PULUMI_CONFIG_PASSPHRASE, AWS_SECRET_ACCESS_KEY: add them to it"
    )


def run_gate(workflow, tmp_path, **env: str) -> tuple[str, str, str]:
    """The backend job's check run as GitHub runs it: (its outputs, its summary, its stdout)."""
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    [step] = steps(workflow["jobs"]["backend"])
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("")
    summary.write_text("")
    full_env = {
        "PATH": os.environ["PATH"],
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "BACKEND_REGION": "eu-central-2",
        "PROD_DEPLOYED": "true",
        "EVENT": "pull_request",
        "ACTOR": "someone",
        "HEAD_REPO": "hbp/mip-federation",
        "REPO": "hbp/mip-federation",
        **env,
    }
    assert set(full_env) - {"PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} == set(step["env"])
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return output.read_text(), summary.read_text(), done.stdout


def test_the_gate_lets_a_configured_backend_through(workflow, tmp_path):
    output, summary, stdout = run_gate(workflow, tmp_path)
    assert output == "configured=true\n"
    assert summary == stdout == ""


def test_the_gate_skips_with_a_notice_without_a_backend(workflow, tmp_path):
    # As on a fresh clone.
    output, summary, stdout = run_gate(workflow, tmp_path, BACKEND_REGION="")
    assert output == "configured=false\n"
    assert stdout.startswith("::notice title=Pulumi backend::Preview and drift check skipped")
    assert "missing: variable PULUMI_BACKEND_REGION)" in summary


def test_the_gate_skips_pull_requests_from_forks_with_a_notice(workflow, tmp_path):
    # GitHub gives no secret (but GITHUB_TOKEN) to a pull_request run from a fork.
    output, summary, _ = run_gate(workflow, tmp_path, HEAD_REPO="someone/mip-federation")
    assert output == "configured=false\n"
    assert "pull requests from forks get no secrets" in summary


def test_the_gate_skips_dependabots_pull_requests_with_a_notice(workflow, tmp_path):
    output, summary, _ = run_gate(workflow, tmp_path, ACTOR="dependabot[bot]")
    assert output == "configured=false\n"
    assert "Dependabot's pull requests get no Actions secrets" in summary


def test_the_gate_says_why_the_nightly_drift_check_did_not_run(workflow, tmp_path):
    output, summary, stdout = run_gate(workflow, tmp_path, EVENT="schedule", PROD_DEPLOYED="")
    assert output == "configured=true\n"
    assert "::notice title=Pulumi backend::Drift check skipped: prod is not deployed" in stdout
    assert "PROD_DEPLOYED" in summary
    _, summary, _ = run_gate(workflow, tmp_path, EVENT="pull_request", PROD_DEPLOYED="")
    assert summary == "", "no drift check is due on a pull request"


def test_run_scripts_pass_shellcheck(workflow):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (.ci/run installs it)")
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            if "run" in step:
                script = re.sub(r"\$\{\{[^}]*\}\}", "X", step["run"])
                done = subprocess.run(
                    ["shellcheck", "-s", "bash", "-"], input=script, capture_output=True, text=True
                )
                assert done.returncode == 0, f"{name}: {step.get('name')}\n{done.stdout}"


def test_no_secret_is_exposed_beyond_the_pulumi_steps(workflow):
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            text = SECRET_PRESENCE.sub(
                "", json.dumps({k: v for k, v in step.items() if k != "with"})
            )
            if "secrets." in text:
                allowed = pulumi_steps(job) + cli_steps(job)
                assert step in allowed, f"{name}: {step.get('name')} sees a secret"
        assert "secrets." not in SECRET_PRESENCE.sub("", json.dumps(job.get("env", {})))
        assert "secrets." not in json.dumps(job.get("outputs", {}))
    assert "secrets." not in json.dumps(workflow.get("env", {}))


def test_the_guide_installs_the_policy_pack_with_the_workflows_command():
    guide = (ROOT / "docs" / "first-deployment.md").read_text(encoding="utf-8")
    assert POLICY_INSTALL in guide


def test_a_stack_missing_from_the_backend_is_a_notice(workflow):
    preview = workflow["jobs"]["preview"]
    [check] = [s for s in steps(preview) if s.get("id") == "stack"]
    assert "pulumi stack ls --json" in check["run"] and "::notice" in check["run"]
    [step] = pulumi_steps(preview)
    assert step["if"] == "steps.stack.outputs.exists == 'true'"


def test_the_stack_check_runs_as_github_runs_it(workflow, tmp_path):
    if shutil.which("bash") is None or shutil.which("jq") is None:
        pytest.skip("no bash or jq")
    [check] = [s for s in steps(workflow["jobs"]["preview"]) if s.get("id") == "stack"]
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pulumi").write_text(
        '#!/bin/sh\n[ "$1" = stack ] && echo \'[{"name": "staging"}]\'\nexit 0\n'
    )
    (fake / "pulumi").chmod(0o755)
    output, summary = tmp_path / "out", tmp_path / "summary"
    env = {
        "PATH": f"{fake}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "PULUMI_BACKEND_URL": "s3://b",
        "STACK": "prod",
    }
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", check["run"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert output.read_text() == "exists=false\n"
    assert "::notice title=Pulumi stack::Preview of prod skipped" in done.stdout
    env["STACK"] = "staging"
    output.write_text("")
    subprocess.run(["bash", "-eo", "pipefail", "-c", check["run"]], env=env, check=True, timeout=30)
    assert output.read_text() == "exists=true\n"


def test_a_failed_preview_posts_its_text_and_fails_the_job(workflow):
    preview = workflow["jobs"]["preview"]
    [step] = pulumi_steps(preview)
    assert step["id"] == "preview" and is_true(step["continue-on-error"])
    [post] = [s for s in steps(preview) if s.get("if") == "steps.preview.outcome == 'failure'"]
    assert "--policy-pack policy" in post["run"] and "gh pr comment" in post["run"]
    assert post["run"].rstrip().endswith("exit 1")
