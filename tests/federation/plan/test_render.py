"""Rendering a plan: the table summarises host scripts and marks secrets; JSON holds the same."""

from __future__ import annotations

import json

from federation.plan import SECRET, main, make_plan, render_table, script_summary
from federation.scripts import render


def test_table_summarizes_scripts_and_marks_secrets():
    table = render_table(make_plan("prod"))
    # Pulumi.prod.yaml holds no secret: the ones to set before `pulumi up` are stood in for.
    assert "# not set in the file (ldsmPasswords; set them with" in table
    join_line = next(line for line in table.splitlines() if "NODE=hug MANAGER_ADDRS=" in line)
    assert join_line.split()[:2] == ["create", "join.sh"]
    password = next(line for line in table.splitlines() if line.startswith("    data "))
    assert password.split() == ["data", SECRET]
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
