"""Rendering: the table, the summary and the exit status."""

from __future__ import annotations

from federation import doctor
from federation.doctor import Row


def test_table_summary_and_exit_status():
    rows = [
        Row("node", "hug", "ready, active", "ready, active", "OK"),
        Row("label", "hug", "name=hug", "(none)", "DRIFT"),
    ]
    assert doctor.table(rows).splitlines() == [
        "CHECK  SUBJECT  EXPECTED       ACTUAL         STATUS",
        "node   hug      ready, active  ready, active  OK",
        "label  hug      name=hug       (none)         DRIFT",
    ]
    assert doctor.summary("prod", rows) == "stack prod: DRIFT: 2 checks, 1 OK, 1 drift, 0 error"
    assert doctor.exit_status(rows) == 1
    assert doctor.exit_status(rows[:1]) == 0
    assert doctor.exit_status([*rows, Row("node", "x", "", "", "ERROR")]) == 2
