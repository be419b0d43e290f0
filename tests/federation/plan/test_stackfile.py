"""A stack file's config as the plan evaluates it: secure values and the key file stay unread."""

from __future__ import annotations

from federation.plan import SECRET, main, make_plan, render_json
from tests.conftest import PROD_IMAGES
from tests.federation.plan.stacks import NODES, write_stack


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
            "mip-federation:ldsmPasswords": {
                "chuv": {"secure": "v1:abc"},
                "hug": {"secure": "v1:def"},
            },
            "mip-federation:exareme": {**PROD_IMAGES, "env": {"TOKEN": {"secure": "v1:ghi"}}},
        },
    )
    plan = make_plan("prod-eu", file=path)
    assert plan.notes[1].startswith("secure: values (exareme, ldsmPasswords, sshPrivateKey)")
    worker = next(r for r in plan.resources if r.name == "exareme-worker-hug")
    env = worker.inputs["taskSpec"]["containerSpec"]["env"]
    assert env["TOKEN"] == SECRET
    assert next(r for r in plan.resources if r.name == "ldsm-hug").inputs["data"] == SECRET
    assert "v1:" not in render_json(plan)
