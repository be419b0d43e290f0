"""Stack plans: the golden plan of every stack, and what a plan shows and never shows."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
import yaml

from federation.plan import (
    SECRET,
    main,
    make_plan,
    render_json,
    render_table,
    script_summary,
)
from federation.scripts import render
from tests.conftest import PROD_IMAGES
from tests.program import ROOT, STACK_FILES

PLANS = ROOT / "tests" / "plans"
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACK_FILES)


def refresh_hint(stack: str) -> str:
    return f"python -m federation.plan {stack} > tests/plans/{stack}.txt"


@pytest.mark.parametrize("stack", STACKS)
def test_golden_plan_is_up_to_date(stack):
    golden = PLANS / f"{stack}.txt"
    assert golden.is_file(), f"no golden plan for stack {stack}: run {refresh_hint(stack)}"
    expected = golden.read_text(encoding="utf-8")
    actual = render_table(make_plan(stack))
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"tests/plans/{stack}.txt",
                "plan now",
            )
        )
        pytest.fail(
            f"the plan of stack {stack} changed. If the change is intended, refresh the golden "
            f"file in the same commit so the pull request shows it:\n    {refresh_hint(stack)}\n"
            f"{diff}"
        )


def test_every_golden_plan_has_its_stack_file():
    stale = sorted(p.name for p in PLANS.glob("*.txt") if p.stem not in STACKS)
    assert stale == [], f"golden plans without a Pulumi.<stack>.yaml: {stale}; remove them"
    assert "prod" in STACKS


def test_plan_is_deterministic():
    first, second = make_plan("prod"), make_plan("prod")
    assert render_table(first) == render_table(second)
    assert render_json(first) == render_json(second)


def test_prod_plan_shows_nodes_placeholders_and_secrets():
    plan = make_plan("prod")
    by_name = {r.name: r for r in plan.resources}
    assert str(by_name["join-lille"].node) == "lille (lille-mip.example.org)"
    assert str(by_name["node-lille"].node) == "chuv (192.0.2.10)", "labels are set on the leader"
    assert str(by_name["exareme-worker-brescia"].node) == "brescia (203.0.113.31)"
    assert str(by_name["overlay-network"].node) == "chuv (192.0.2.10)"
    assert str(by_name["leader-docker"].node) == "chuv (192.0.2.10)"
    assert by_name["mip-federation"].node is None
    join = by_name["join-hug"].inputs
    assert join["stdin"] == SECRET
    assert join["connection"]["privateKey"] == SECRET
    assert join["connection"]["user"] == "mipadmin"
    assert "NODE_ID='<join-hug.stdout>'" in by_name["node-hug"].inputs["create"]
    assert "NODE_ID='<swarm-init.stdout.nodeId>'" in by_name["node-chuv"].inputs["create"]
    env = by_name["exareme-worker-hug"].inputs["taskSpec"]["containerSpec"]["env"]
    assert env["RAWPASSWORD"] == SECRET
    assert env["RAWHOST"] == "198.51.100.21"
    network_id = by_name["exareme-master"].inputs["taskSpec"]["networksAdvanceds"][0]["id"]
    assert network_id == "<overlay-network.id>"
    assert plan.outputs["swarmId"] == "<swarm-init.stdout.swarmId>"


def test_table_summarizes_scripts_and_marks_secrets():
    table = render_table(make_plan("prod"))
    # Pulumi.prod.yaml holds no secret: the ones to set before `pulumi up` are stood in for.
    assert "# not set in the file (sshPrivateKey, ldsmPasswords; set them with" in table
    join_line = next(line for line in table.splitlines() if "NODE=hug MANAGER_ADDRS=" in line)
    assert join_line.split()[:2] == ["create", "join.sh"]
    assert "taskSpec.containerSpec.env.RAWPASSWORD" in table
    assert "SWMTKN" not in table and "BEGIN OPENSSH" not in table
    lines = table.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("TYPE ")))
    rows = [line.split()[:2] for line in lines[header + 1 :] if line and not line[0].isspace()]
    resources = [row for row in rows if row[0] not in ("OUTPUTS", "WARNINGS")]
    assert resources == sorted(resources), "resources are listed sorted by type and name"


def test_script_summary_names_the_script_its_digest_and_parameters():
    summary = script_summary(render("node_set", NODE="hug", NODE_ID="abc", ROLE="worker"))
    assert summary is not None
    name, digest, *params = summary.split(" ")
    assert (name, params) == ("node_set.sh", ["NODE=hug", "NODE_ID=abc", "ROLE=worker"])
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 12
    assert script_summary("echo hello\n") is None


def test_json_has_the_same_resources_as_the_table(capsys):
    assert main(["prod", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    plan = make_plan("prod")
    assert [(r["type"], r["name"]) for r in document["resources"]] == [
        (r.typ, r.name) for r in plan.resources
    ]
    join = next(r for r in document["resources"] if r["name"] == "join-hug")
    assert join["node"] == {"name": "hug", "host": "198.51.100.21"}
    assert join["parent"] == "swarm"
    assert join["dependsOn"] == ["swarm-join-tokens"]
    assert join["inputs"]["create"].startswith("NODE=hug\n"), "JSON keeps the full command text"
    assert document["stack"] == "prod" and document["file"] == "Pulumi.prod.yaml"


def test_cli_prints_the_table(capsys):
    assert main(["prod"]) == 0
    assert capsys.readouterr().out == (PLANS / "prod.txt").read_text(encoding="utf-8")


def write_stack(tmp_path: Path, stack: str, config: dict[str, object]) -> Path:
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return path


NODES = [
    {"name": "chuv", "host": "192.0.2.10", "role": "manager"},
    {"name": "hug", "host": "198.51.100.21", "role": "worker"},
]


def test_key_file_is_never_read(tmp_path, capsys):
    key_file = tmp_path / "id_ed25519"
    key_file.write_text("REAL-KEY-MATERIAL\n")
    path = write_stack(
        tmp_path,
        "lab",
        {
            "mip-federation:ssh": {"privateKeyFile": str(key_file)},
            "mip-federation:nodes": NODES,
        },
    )
    assert main(["lab", "--file", str(path)]) == 0
    table = capsys.readouterr().out
    assert "REAL-KEY-MATERIAL" not in table
    assert f"# ssh.privateKeyFile {key_file} is not read: evaluated with a stand-in key." in table
    assert f'"-i", "{key_file}"' in table, "the docker provider shows the configured path"
    assert "mip-plan-" not in table, "the stand-in's path never shows"


def test_plan_works_when_the_key_file_does_not_exist(tmp_path):
    missing = tmp_path / "not-there" / "id_ed25519"
    path = write_stack(
        tmp_path,
        "fresh",
        {"mip-federation:ssh": {"privateKeyFile": str(missing)}, "mip-federation:nodes": NODES},
    )
    plan = make_plan("fresh", file=path)
    assert {r.name for r in plan.resources} >= {"swarm-init", "join-hug", "node-hug"}
    assert not missing.exists()


def test_secure_values_anywhere_are_secret(tmp_path):
    path = write_stack(
        tmp_path,
        "prod-eu",
        {
            "mip-federation:sshPrivateKey": {"secure": "v1:abc"},
            "mip-federation:nodes": NODES,
            "mip-federation:ldsmPasswords": {"hug": {"secure": "v1:def"}},
            "mip-federation:exareme": {**PROD_IMAGES, "env": {"TOKEN": {"secure": "v1:ghi"}}},
        },
    )
    plan = make_plan("prod-eu", file=path)
    assert plan.notes[1].startswith("secure: values (exareme, ldsmPasswords, sshPrivateKey)")
    worker = next(r for r in plan.resources if r.name == "exareme-worker-hug")
    env = worker.inputs["taskSpec"]["containerSpec"]["env"]
    assert env["TOKEN"] == SECRET
    assert env["RAWPASSWORD"] == SECRET
    assert "v1:" not in render_json(plan)


def test_invalid_stack_reports_every_problem_and_fails(tmp_path, capsys):
    path = write_stack(tmp_path, "bad", {"mip-federation:nodes": [{"name": "X", "host": "h"}]})
    assert main(["bad", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert "invalid stack configuration" in err
    assert "nodes[0].name" in err and "nodes[0].role" in err


def test_missing_stack_file_is_an_error(capsys):
    assert main(["no-such-stack"]) == 2
    assert "Pulumi.no-such-stack.yaml does not exist" in capsys.readouterr().err


def test_plan_shows_delete_before_replace_and_ignored_changes():
    plan = make_plan("prod")
    network = next(r for r in plan.resources if r.name == "overlay-network")
    assert network.delete_before_replace and network.ignore_changes == []
    table = render_table(plan)
    assert "    (deleteBeforeReplace)" in table
    assert (
        "    (ignoreChanges)                              [taskSpec.placement.platforms]" in table
    )
    document = json.loads(render_json(plan))
    service = next(r for r in document["resources"] if r["name"] == "exareme-master")
    assert service["deleteBeforeReplace"] is True
    assert service["ignoreChanges"] == ["taskSpec.placement.platforms"]
