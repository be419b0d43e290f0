"""Every tracked Pulumi.<stack>.yaml is one the real CLI can read: well-formed `secure:` values for
the passphrase secrets provider, an encryptionsalt wherever one is needed, no placeholder left."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from federation.stackfile import secure_entries
from tests.lab.paths import KEYS
from tests.program import ROOT, STACK_FILES

B64 = r"[A-Za-z0-9+/]+={0,2}"
# pkg/secrets/passphrase: a ciphertext is v1:<base64 nonce>:<base64 AES-GCM ciphertext>.
SECURE_RE = re.compile(rf"^v1:{B64}:{B64}$")
# The passphrase provider's salt: v1:<base64 salt>:v1:<base64 nonce>:<base64 encrypted "pulumi">.
SALT_RE = re.compile(rf"^v1:{B64}:v1:{B64}:{B64}$")
PLACEHOLDER_RE = re.compile(r"PLACEHOLDER|CHANGEME|TODO|\bxxx+\b", re.IGNORECASE)


def problems(text: str) -> list[str]:
    """What the CLI (passphrase provider) would refuse in a stack file, or a placeholder left."""
    found: list[str] = []
    document = yaml.safe_load(text) or {}
    secure = secure_entries(document.get("config") or {})
    for path, ciphertext in secure:
        if not isinstance(ciphertext, str) or not SECURE_RE.match(ciphertext):
            found.append(f"{path}: secure value is not v1:<base64 nonce>:<base64 ciphertext>")
    salt = document.get("encryptionsalt")
    if secure and salt is None:
        found.append("encryptionsalt: missing although the file holds secure values")
    if salt is not None and not (isinstance(salt, str) and SALT_RE.match(salt)):
        found.append("encryptionsalt: not v1:<base64>:v1:<base64>:<base64>")
    for number, line in enumerate(text.splitlines(), 1):
        if PLACEHOLDER_RE.search(line):
            found.append(f"line {number}: placeholder text left: {line.strip()}")
    return found


def machine_specific(text: str, markers: list[str]) -> list[str]:
    """The markers of one machine (its checkout's path, its lab's public keys) found in text."""
    return [marker for marker in markers if marker in text]


def this_machines_markers() -> list[str]:
    keys = [path.read_text().split()[1] for path in sorted(KEYS.glob("**/*.pub"))]
    return [str(ROOT), *keys]


def test_the_stack_files_are_found():
    assert "Pulumi.prod.yaml" in {p.name for p in STACK_FILES}


def test_no_tracked_file_holds_a_path_or_key_of_this_machine():
    # The lab's stack is generated into the git-ignored .lab/ (python -m tests.lab stack).
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    markers = this_machines_markers()
    found = {}
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if path.is_file() and not path.is_symlink():
            text = path.read_bytes().decode("utf-8", errors="replace")
            if hits := machine_specific(text, markers):
                found[name.decode()] = hits
    assert found == {}, "tracked files naming this checkout or its lab keys"


def test_a_lab_stack_file_is_machine_specific():
    lab_stack = f"privateKeyFile: {ROOT}/.lab/id_ed25519\nhostKey: ssh-ed25519 AAAAC3Nz1\n"
    assert machine_specific(lab_stack, [str(ROOT), "AAAAC3Nz1"]) == [str(ROOT), "AAAAC3Nz1"]
    assert machine_specific("privateKeyFile: ~/.ssh/id_ed25519\n", [str(ROOT)]) == []


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stack_file_is_readable_by_the_cli(path):
    assert problems(path.read_text(encoding="utf-8")) == []


# --- the checks themselves can fail -------------------------------------------------------------

GOOD_SALT = "v1:c2FsdHNhbHQ=:v1:bm9uY2Vub25jZQ==:Y2lwaGVydGV4dA=="
GOOD_SECURE = "v1:bm9uY2Vub25jZW5v:Y2lwaGVydGV4dGNpcGhlcg=="


def sample(config: str, salt: str | None = None) -> str:
    head = f"encryptionsalt: {salt}\n" if salt is not None else ""
    return f"{head}config:\n{config}"


def test_a_well_formed_file_passes():
    text = sample(
        f"  mip-federation:sshPrivateKey:\n    secure: {GOOD_SECURE}\n"
        f"  mip-federation:ldsmPasswords:\n    chuv:\n      secure: {GOOD_SECURE}\n",
        GOOD_SALT,
    )
    assert problems(text) == []
    assert problems(sample("  mip-federation:ssh:\n    user: root\n")) == []


@pytest.mark.parametrize(
    "ciphertext",
    [
        "v1:PLACEHOLDER",
        "v1:PLACEHOLDER-set-with-pulumi-config-set-secret",
        "v1:bm9uY2U=",
        "v2:bm9uY2U=:Y2lwaGVy",
        "v1:not base64!:Y2lwaGVy",
        "plain text",
    ],
)
def test_a_malformed_secure_value_fails(ciphertext):
    text = sample(f"  mip-federation:sshPrivateKey:\n    secure: {ciphertext}\n", GOOD_SALT)
    assert any(p.startswith("mip-federation:sshPrivateKey: secure value") for p in problems(text))


def test_a_nested_malformed_secure_value_names_its_path():
    text = sample("  mip-federation:ldsmPasswords:\n    hug:\n      secure: v1:abc\n", GOOD_SALT)
    assert problems(text) == [
        "mip-federation:ldsmPasswords.hug: secure value is not v1:<base64 nonce>:<base64 "
        "ciphertext>"
    ]


def test_secure_values_need_an_encryptionsalt():
    text = sample(f"  mip-federation:sshPrivateKey:\n    secure: {GOOD_SECURE}\n")
    assert problems(text) == ["encryptionsalt: missing although the file holds secure values"]


@pytest.mark.parametrize("salt", ["v1:abc", "v1:YWJj:YWJj", "PLACEHOLDER", "v1:a b:v1:YQ==:YQ=="])
def test_a_malformed_encryptionsalt_fails(salt):
    assert "encryptionsalt: not v1:<base64>:v1:<base64>:<base64>" in problems(sample("", salt))


@pytest.mark.parametrize(
    "line",
    [
        "  mip-federation:ssh:\n    user: CHANGEME\n",
        "  # TODO: set the real host\n  mip-federation:ssh:\n    user: root\n",
        "  mip-federation:ssh:\n    user: xxx\n",
        "  mip-federation:ssh:\n    user: placeholder\n",
    ],
)
def test_placeholder_text_fails(line):
    assert any("placeholder text left" in p for p in problems(sample(line)))
