"""The one stack-file reader: `secure:` entries masked wherever they are, never shown by any of
the readers built on it (plan, doctor, the engine double, the test loaders)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import doctor
from federation.doctor import DoctorError
from federation.plan.stackfile import SECRET, read_stack_inputs
from federation.stackfile import (
    StackFileError,
    config_text,
    is_secure,
    read_stack_file,
    secure_entries,
)
from tests.conftest import PROD_IMAGES
from tests.engine.stackfile import load_stack_file as engine_load_stack_file
from tests.program import TEST_SECRET, load_stack_file, load_stack_file_as_is

CIPHERTEXTS = ["v1:KEYKEYKEY", "v1:HUGHUGHUG", "v1:TOKENTOKEN", "v1:LISTLIST", "v1:HOSTKEY"]
MALFORMED = {"not": "a string"}  # a `secure:` entry whose ciphertext is not even text

CONFIG: dict[str, Any] = {
    "mip-federation:sshPrivateKey": {"secure": CIPHERTEXTS[0]},
    "mip-federation:ldsmPasswords": {
        "hug": {"secure": CIPHERTEXTS[1]},
        "chuv": {"secure": MALFORMED},
    },
    "mip-federation:exareme": {**PROD_IMAGES, "env": {"TOKEN": {"secure": CIPHERTEXTS[2]}}},
    "mip-federation:nodes": [
        {"name": "chuv", "host": "192.0.2.10", "role": "manager"},
        {
            "name": "hug",
            "host": "198.51.100.21",
            "role": "worker",
            "hostKey": {"secure": CIPHERTEXTS[4]},
        },
    ],
    "mip-federation:extra": [{"secure": CIPHERTEXTS[3]}, "plain"],
    "mip-federation:portal": {"enabled": False},
}
SECURE_PATHS = {
    "mip-federation:sshPrivateKey": ["mip-federation:sshPrivateKey"],
    "mip-federation:ldsmPasswords": [
        "mip-federation:ldsmPasswords.hug",
        "mip-federation:ldsmPasswords.chuv",
    ],
    "mip-federation:exareme": ["mip-federation:exareme.env.TOKEN"],
    "mip-federation:nodes": ["mip-federation:nodes[1].hostKey"],
    "mip-federation:extra": ["mip-federation:extra[0]"],
}


@pytest.fixture
def stack_path(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump({"config": CONFIG}, sort_keys=False), encoding="utf-8")
    return path


def assert_no_ciphertext(output: object) -> None:
    text = repr(output)
    for ciphertext in CIPHERTEXTS:
        assert ciphertext not in text
    assert "a string" not in text


def test_secure_entries_at_nested_paths_and_in_lists(stack_path: Path):
    file = read_stack_file(stack_path, "MASK")
    assert file.secure_paths == SECURE_PATHS
    assert file.secure_keys == list(SECURE_PATHS)
    assert file.stack == "prod"
    assert file.config["mip-federation:ldsmPasswords"] == {"hug": "MASK", "chuv": "MASK"}
    assert file.config["mip-federation:exareme"]["env"] == {"TOKEN": "MASK"}
    assert file.config["mip-federation:nodes"][1]["hostKey"] == "MASK"
    assert file.config["mip-federation:extra"] == ["MASK", "plain"]
    assert file.config["mip-federation:portal"] == {"enabled": False}
    assert_no_ciphertext(file)


def test_a_malformed_secure_entry_is_still_secure_and_never_shown():
    assert is_secure({"secure": MALFORMED}) and is_secure({"secure": None})
    assert not is_secure({"secure": "v1:x", "other": 1}), "a mapping with more keys is plain config"
    assert secure_entries({"a": [{"secure": MALFORMED}]}) == [("a[0]", MALFORMED)]


def test_config_text_is_what_pulumi_config_hands_the_program():
    assert config_text("x") == "x"
    assert json.loads(config_text({"a": [1, True]})) == {"a": [1, True]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: [1, 2]\n", "`config` must be a mapping"),
        ("- not a mapping\n", "must be a YAML mapping"),
        ("config: {a: [\n", "cannot read the stack file"),
    ],
)
def test_an_unreadable_stack_file_names_the_file(tmp_path: Path, text: str, message: str):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StackFileError, match=message) as error:
        read_stack_file(path, None)
    assert str(path) in str(error.value)


def test_the_plan_reader_shows_no_secret(stack_path: Path):
    inputs = read_stack_inputs(stack_path, "mip-federation")
    assert inputs.secret_keys == sorted(SECURE_PATHS)
    assert json.loads(inputs.config["mip-federation:ldsmPasswords"]) == {
        "hug": SECRET,
        "chuv": SECRET,
    }
    assert_no_ciphertext(inputs)


def test_the_doctor_reader_shows_no_secret(stack_path: Path):
    with pytest.raises(DoctorError) as error:  # a secure hostKey and an unknown key are refused
        doctor.read_stack(stack_path, "prod")
    assert_no_ciphertext(str(error.value))
    document = yaml.safe_load(stack_path.read_text())
    del document["config"]["mip-federation:nodes"][1]["hostKey"]
    del document["config"]["mip-federation:extra"]
    stack_path.write_text(yaml.safe_dump(document, sort_keys=False))
    settings = doctor.read_stack(stack_path, "prod")
    assert settings.ssh_private_key is not None
    assert settings.ssh_private_key.get_secret_value() == doctor.UNDECRYPTED
    assert_no_ciphertext(settings)
    assert_no_ciphertext(settings.model_dump())


def test_the_engine_reader_shows_no_secret(stack_path: Path, tmp_path: Path):
    with pytest.raises(StackFileError) as error:
        engine_load_stack_file(stack_path, None)
    message = str(error.value)
    for paths in SECURE_PATHS.values():
        assert all(path in message for path in paths)
    assert_no_ciphertext(message)
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(yaml.safe_dump({key: "PLAIN" for key in SECURE_PATHS}))
    config, secret_keys = engine_load_stack_file(stack_path, secrets)
    assert sorted(secret_keys) == sorted(SECURE_PATHS)
    assert_no_ciphertext(config)


def test_the_test_loaders_show_no_secret(stack_path: Path):
    plain, secret = load_stack_file_as_is(stack_path)
    assert sorted(secret) == sorted(key.split(":", 1)[1] for key in SECURE_PATHS)
    assert secret["exareme"]["env"] == {"TOKEN": TEST_SECRET}
    assert_no_ciphertext((plain, secret))
    plain, secret = load_stack_file(stack_path)
    assert secret["ldsmPasswords"] == {"hug": "pw-hug", "chuv": "pw-chuv"}
    assert secret["sshPrivateKey"].startswith("-----BEGIN OPENSSH")
    assert_no_ciphertext((plain, secret))
