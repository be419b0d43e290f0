"""Local lab for mip-federation: hosts in network namespaces with real sshd, dockerd and swarm.

Command line: `python -m tests.lab --help` (as root, from the repository root).
Python: `Lab().up(4)`, `lab.run(1, "docker info")`, `lab.stack_config(["chuv", "hug"])`, ...
Pytest: the session fixture `lab` in tests.lab.fixture.
"""

from .host import Host, LabError
from .images import STANDIN_IMAGES
from .lab import HostCommandError, HostStatus, Lab, Memory

__all__ = ["STANDIN_IMAGES", "Host", "HostCommandError", "HostStatus", "Lab", "LabError", "Memory"]
