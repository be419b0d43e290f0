"""The command: prints the table, exits 1 on an invalid stack and 2 on a missing file."""

from __future__ import annotations

from federation.plan import main
from tests.federation.plan.stacks import PLANS, write_stack


def test_cli_prints_the_table(capsys):
    assert main(["prod"]) == 0
    assert capsys.readouterr().out == (PLANS / "prod.txt").read_text(encoding="utf-8")


def test_invalid_stack_reports_every_problem_and_fails(tmp_path, capsys):
    path = write_stack(tmp_path, "bad", {"mip-federation:nodes": [{"name": "X", "host": "h"}]})
    assert main(["bad", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert "invalid stack configuration" in err
    assert "nodes[0].name" in err and "nodes[0].role" in err


def test_missing_stack_file_is_an_error(capsys):
    assert main(["no-such-stack"]) == 2
    assert "Pulumi.no-such-stack.yaml does not exist" in capsys.readouterr().err


def test_unreadable_stack_file_is_an_error(tmp_path, capsys):
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text("- a list, not a mapping\n", encoding="utf-8")
    assert main(["broken", "--file", str(path)]) == 1
    assert f"the stack file {path} must be a YAML mapping" in capsys.readouterr().err
