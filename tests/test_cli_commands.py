"""Every fenced `pulumi ...` command in README.md and docs/*.md uses a subcommand and flags the
pinned CLI has, and the guide's commands parse and name files that exist.

The table is taken from pulumi/pulumi's cobra definitions: pkg/cmd/pulumi/pulumi.go (persistent
flags), operations/preview.go, operations/up.go, stack/stack.go, stack/stack_new.go (`init` is an
alias of `new`), stack/stack_list.go (`ls`, `--json` via outputflag.VarWithJSONAlias),
stack/stack_select.go, stack/stack_output.go, config/config.go (newConfigCmd, newConfigSetCmd),
state/state_delete.go (`delete` is an alias of `remove`), install/install.go, auth/login.go,
version/version.go. Read at the snapshot's newest commit (3.260.0-dev); the guide installs 3.272.0,
whose tag the snapshot lacks.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.program import ROOT

CLI_VERSION = "3.272.0"
GLOBAL = {"color", "cwd", "C", "emoji", "e", "non-interactive", "verbose", "v", "logtostderr",
          "logflow", "tracing", "profiling"}  # fmt: skip
_OPERATION = {"stack", "s", "diff", "policy-pack", "policy-pack-config", "expect-no-changes",
              "refresh", "r", "parallel", "p", "target", "t", "target-dependents", "replace",
              "exclude", "exclude-dependents", "show-sames", "show-replacement-steps", "json", "j",
              "message", "m", "config", "c", "config-file", "suppress-outputs",
              "suppress-progress", "show-secrets", "show-reads", "debug", "d"}  # fmt: skip
FLAGS: dict[tuple[str, ...], set[str]] = {
    ("preview",): _OPERATION | {"save-plan"},
    ("up",): _OPERATION | {"yes", "y", "skip-preview", "f", "plan", "secrets-provider"},
    ("stack",): {"stack", "s", "show-ids", "i", "show-name", "show-secrets", "show-urns", "u"},
    ("stack", "init"): {"secrets-provider", "stack", "s", "copy-config-from", "no-select"},
    ("stack", "ls"): {"all", "a", "organization", "o", "project", "p", "tag", "t", "json", "j"},
    ("stack", "select"): {"create", "c", "secrets-provider", "stack", "s"},
    ("stack", "output"): {"json", "j", "shell", "show-secrets", "stack", "s"},
    ("config", "set"): {"path", "plaintext", "secret", "type", "stack", "s", "config-file"},
    ("state", "delete"): {"all", "force", "stack", "s", "target-dependents", "yes", "y"},
    ("install",): {"no-dependencies", "no-plugins", "parallel", "reinstall"},
    ("login",): {"cloud-url", "c", "default-org", "insecure", "interactive", "local", "l"},
    ("version",): set(),
}
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
GUIDE = ROOT / "docs" / "first-deployment.md"
FENCE = re.compile(r"^```(?:sh|bash|console)?\n(.*?)^```", re.M | re.S)


def fenced_commands(text: str) -> list[str]:
    """The `pulumi ...` commands of the fenced shell blocks, one per line, comments dropped."""
    found = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            for part in re.split(r"\s*(?:&&|\|)\s*", line.split(" #", 1)[0].strip()):
                if part.startswith("pulumi "):
                    found.append(part.split(" < ", 1)[0])
    return found


def check(command: str) -> list[str]:
    """What the pinned CLI would not know in `command`."""
    words = shlex.split(command)[1:]
    positional = [w for w in words if not w.startswith("-")]
    subcommand = next(
        (key for n in (2, 1) for key in FLAGS if len(key) == n and tuple(positional[:n]) == key),
        None,
    )
    if subcommand is None:
        return [f"{command}: no such subcommand in the table"]
    problems = []
    for word in words:
        if word.startswith("-"):
            name = word.lstrip("-").split("=", 1)[0]
            if name not in FLAGS[subcommand] | GLOBAL:
                problems.append(f"{command}: {' '.join(subcommand)} has no flag {word}")
    return problems


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_documented_pulumi_command_exists_in_the_pinned_cli(path):
    commands = fenced_commands(path.read_text(encoding="utf-8"))
    problems = [p for c in commands for p in check(c)]
    assert problems == []


def test_the_check_refuses_an_unknown_flag_and_subcommand():
    assert check("pulumi up --stack prod --policy-pack policy") == []
    assert check("pulumi state delete --target-dependents 'urn:x'") == []
    assert check("pulumi up --stack prod --policypack policy") != []
    assert check("pulumi state remove-all 'urn:x'") != []


def test_the_guide_installs_the_tabled_cli():
    assert f"--version {CLI_VERSION}" in GUIDE.read_text(encoding="utf-8")


def test_the_guides_commands_parse_and_name_files_that_exist():
    text = GUIDE.read_text(encoding="utf-8")
    for block in FENCE.findall(text):
        for line in block.splitlines():
            shlex.split(line, comments=True)  # raises on an unbalanced quote
    for name in re.findall(r"-r (\S+\.txt)", text) + re.findall(
        r"`((?:policy/)?\w[\w.-]*\.(?:txt|yaml))`", text
    ):
        assert (ROOT / name).is_file(), name


def test_the_guide_creates_each_venv_before_it_is_used():
    text = GUIDE.read_text(encoding="utf-8")
    assert text.index("pulumi install") < text.index("venv/bin/python -m federation.plan")
    assert text.index("python3 -m venv policy/venv") < text.index("--policy-pack policy")
    assert text.index("> ~/.config/mip-federation/passphrase") < text.index("pulumi stack init")
    assert "PULUMI_PYTHON_CMD" in text and 'PATH="$HOME/.pulumi/bin:$PATH"' in text
    for line in fenced_commands(text):
        if line.startswith("pulumi up"):
            assert "--policy-pack policy" in line, line
