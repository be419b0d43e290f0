"""Shell scripts that run on the hosts, kept as readable files in scripts/.

A rendered script is its parameters as shell assignments (every value shlex-quoted) followed by
the script's code. No secret is ever a parameter: secrets travel on the command's stdin.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from importlib import resources

_PARAM_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


_INCLUDE = "# include: "


@cache
def script_text(name: str) -> str:
    """The script's text, each `# include: NAME` line replaced by scripts/lib/NAME.sh."""
    # One name per joinpath (or `/`): Traversable.joinpath takes several only from Python 3.11.
    scripts = resources.files(__package__) / "scripts"
    lines = (scripts / f"{name}.sh").read_text("utf-8").splitlines(keepends=True)
    return "".join(
        (scripts / "lib" / f"{line.removeprefix(_INCLUDE).strip()}.sh").read_text("utf-8")
        if line.startswith(_INCLUDE)
        else line
        for line in lines
    )


def render(name: str, **params: str) -> str:
    """The script `name` with its parameters bound, ready to be a Command's create/delete text."""
    assignments = []
    for key, value in params.items():
        if not _PARAM_RE.match(key):
            raise ValueError(f"script parameter name {key!r} is not an upper-case shell name")
        assignments.append(f"{key}={shlex.quote(value)}")
    # Comments stay in the files; commands carry only code, which keeps previews and the
    # provider's error messages (they quote the whole command) short.
    body = [line for line in script_text(name).splitlines() if not line.startswith("#")]
    return "\n".join(assignments + body) + "\n"
