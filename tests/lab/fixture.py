"""Pytest fixture for tests against the local lab.

    from tests.lab.fixture import lab  # noqa: F401  (in a conftest.py)

    @pytest.mark.lab
    def test_something(lab: Lab) -> None:
        lab.reset()  # the lab is shared by the whole session: start from a clean state
        ...

`lab` brings up a 5-host lab once per session and takes it down at the end. A lab that was
already up (`python -m tests.lab up 5`, to save the start-up time over many runs) is reset and
reused, resized to 5 hosts, and left up; one that another checkout started (its keys are in that
checkout's .lab/) is started again here and taken down at the end. Skips only when not root;
any other problem is an error.
`lab_fixture(hosts, images, name)` makes other such fixtures.
"""

import os
from collections.abc import Callable, Iterable, Iterator

import pytest

from .lab import Lab

DEFAULT_HOSTS = 5


def lab_fixture(
    hosts: int = DEFAULT_HOSTS, images: Iterable[str] = (), name: str = "lab"
) -> Callable[[], Iterator[Lab]]:
    """A session-scoped fixture `name` giving a running Lab of `hosts` hosts with the stand-in
    images plus `images`."""
    extra_images = tuple(images)

    @pytest.fixture(scope="session", name=name)
    def fixture() -> Iterator[Lab]:
        if os.geteuid() != 0:
            pytest.skip("the local lab needs root (network namespaces, mounts, dockerd)")
        # MIP_LAB_PREFIX / MIP_LAB_SUBNET select another lab, so that several sessions can run
        # lab tests side by side on one machine.
        lab = Lab(
            prefix=os.environ.get("MIP_LAB_PREFIX", "mip"),
            subnet=os.environ.get("MIP_LAB_SUBNET", "10.231.0"),
        )
        was_up = lab.started_here()
        lab.up(hosts, extra_images)
        if was_up:
            lab.reset()
        yield lab
        if not was_up:
            lab.down()

    return fixture


lab = lab_fixture()
