"""Rendering a report: the table, the summary line, the JSON document, the exit status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from federation.doctor.model import Row

HEADER = ("CHECK", "SUBJECT", "EXPECTED", "ACTUAL", "STATUS")
VERDICTS = {0: "IN SYNC", 1: "DRIFT", 2: "ERROR"}


def exit_status(rows: Sequence[Row]) -> int:
    """2 on an error, 1 on drift or a warning (so that a cron job sees an expiry coming)."""
    statuses = {r.status for r in rows}
    return 2 if "ERROR" in statuses else 1 if statuses & {"DRIFT", "WARN"} else 0


def verdict(rows: Sequence[Row]) -> str:
    """The report's word: the exit status's, WARN when only warnings make it 1."""
    statuses = {r.status for r in rows}
    return (
        "WARN" if statuses <= {"OK", "WARN"} and "WARN" in statuses else VERDICTS[exit_status(rows)]
    )


def summary(stack: str, rows: Sequence[Row]) -> str:
    """The counts; warnings only when there are some."""
    counts = {s: sum(r.status == s for r in rows) for s in ("OK", "WARN", "DRIFT", "ERROR")}
    warnings = f"{counts['WARN']} warn, " if counts["WARN"] else ""
    return (
        f"stack {stack}: {verdict(rows)}: {len(rows)} checks, {counts['OK']} OK, {warnings}"
        f"{counts['DRIFT']} drift, {counts['ERROR']} error"
    )


def table(rows: Sequence[Row]) -> str:
    """One line per row; a row's fix, when it has one, follows its status on the same line."""
    lines = [HEADER, *((r.check, r.subject, r.expected, r.actual, r.status) for r in rows)]
    fixes = ["", *(r.fix for r in rows)]
    columns = len(HEADER) if any(fixes) else len(HEADER) - 1
    widths = [max(len(line[i]) for line in lines) for i in range(columns)]
    return "\n".join(
        (
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
            + ("" if columns == len(HEADER) else "  " + line[-1])
            + (f"  fix: {fix}" if fix else "")
        ).rstrip()
        for line, fix in zip(lines, fixes, strict=True)
    )


def document(stack: str, rows: Sequence[Row]) -> dict[str, Any]:
    """The `--json` report."""
    return {
        "stack": stack,
        "status": verdict(rows),
        "summary": summary(stack, rows),
        "rows": [asdict(r) for r in rows],
    }


def error_document(stack: str, error: str) -> dict[str, Any]:
    """The `--json` report when no report could be made."""
    return {"stack": stack, "status": "ERROR", "error": error, "rows": []}
