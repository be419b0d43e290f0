"""README.md and docs/: the README stays a short door, every relative link leads to a file (and
heading) that exists, and the commands it gives run as written on a machine set up by .ci/run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.lab.__main__ import _parser as lab_parser
from tests.program import ROOT

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 160

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The text without code blocks and inline code, where brackets are no links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces as '-'."""
    slugs = set()
    for title in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title).lower()
        slugs.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return slugs


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):
            continue
        path_part, _, anchor = target.partition("#")
        path = (page.parent / path_part).resolve() if path_part else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading '#{anchor}' in {path.name}")
    return broken


def test_readme_is_a_short_door() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move depth to docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_link_check_sees_a_broken_link_and_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## Losing the lead manager\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#losing-the-lead-manager) [gone](missing.md) [bad](other.md#nowhere)\n"
        "`[code](not-a-link.md)`\n"
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nowhere: no heading '#nowhere' in other.md",
    ]


def test_readme_gives_the_two_commands_and_ci_run_sets_up_what_they_need() -> None:
    text = README.read_text(encoding="utf-8")
    assert "bash .ci/run " in text and "pulumi up --stack prod " in text
    assert (ROOT / "Pulumi.prod.yaml").is_file()
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m venv venv" in ci_run
    assert "venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt" in ci_run


def shell_commands(page: Path) -> list[str]:
    """Every command line in the page's sh code blocks, split at && and without redirects."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S):
        for line in block.splitlines():
            for command in line.split("#", 1)[0].split("&&"):
                if command.strip():
                    commands.append(command.split(">", 1)[0].strip())
    return commands


@pytest.mark.parametrize("page", [README, ROOT / "docs" / "development.md"], ids=lambda p: p.name)
def test_python_commands_use_the_venv_and_the_lab_accepts_them(page: Path) -> None:
    commands = shell_commands(page)
    lab_commands = [c for c in commands if c.startswith("venv/bin/python -m tests.lab ")]
    assert lab_commands, f"{page.name} shows no lab command"
    bare = [c for c in commands if re.match(r"^python3? ", c)]
    assert bare == [], "a bare python lacks the dependencies: use venv/bin/python"
    for command in lab_commands:
        lab_parser().parse_args(shlex.split(command)[3:])
