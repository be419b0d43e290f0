"""Reading a stack file without decrypting its secure values; the CLI's errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import doctor
from federation.doctor import DoctorError
from tests.conftest import PROD_IMAGES
from tests.federation.doctor.canned import NODES


def write_stack(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "Pulumi.prod.yaml"
    config = {"exareme": PROD_IMAGES, **config}  # prod requires digest-pinned images
    document = {"config": {f"mip-federation:{k}": v for k, v in config.items()}}
    document["config"]["docker:host"] = "ignored: another namespace"
    path.write_text(yaml.safe_dump(document))
    return path


def test_stack_file_with_secure_values_needs_no_decryption(tmp_path):
    path = write_stack(
        tmp_path,
        {
            "sshPrivateKey": {"secure": "v1:AAAA"},
            "nodes": NODES,
            "ldsmPasswords": {"hug": {"secure": "v1:BBBB"}},
        },
    )
    stack = doctor.read_stack(path, "prod")
    assert [n.name for n in stack.nodes] == ["chuv", "hug", "lille"]
    assert stack.ssh_private_key is not None
    assert stack.ssh_private_key.get_secret_value() == doctor.UNDECRYPTED


def test_key_option_replaces_the_private_key_file(tmp_path):
    key = tmp_path / "id"
    key.write_text("k")
    path = write_stack(tmp_path, {"ssh": {"privateKeyFile": "/nowhere/id"}, "nodes": NODES})
    assert doctor.read_stack(path, "prod", str(key)).ssh.private_key_file == str(key)
    with pytest.raises(DoctorError, match="does not exist here"):
        doctor.read_stack(path, "prod")


def test_invalid_or_plain_text_secret_config_is_an_error(tmp_path):
    path = write_stack(tmp_path, {"sshPrivateKey": "plain text key", "nodes": NODES})
    with pytest.raises(DoctorError, match="sshPrivateKey: is stored in plain text"):
        doctor.read_stack(path, "prod")
    (tmp_path / "Pulumi.x.yaml").write_text("nothing: here\n")
    with pytest.raises(DoctorError, match="no `config:` block"):
        doctor.read_stack(tmp_path / "Pulumi.x.yaml", "x")


def test_cli_exits_2_on_a_bad_stack_with_a_json_error(tmp_path, capsys):
    path = write_stack(tmp_path, {"nodes": [{"name": "Bad", "host": "x", "role": "boss"}]})
    code = doctor.main(["prod", "--stack-file", str(path), "--json"])
    assert code == 2
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["status"] == "ERROR" and report["rows"] == []
    assert "nodes[0].name" in report["error"] and "doctor: " in err
    assert doctor.main(["../etc", "--stack-file", str(path)]) == 2
