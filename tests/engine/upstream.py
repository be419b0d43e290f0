"""The upstream versions the engine double models, in one table (FIDELITY.md says what each part
follows). `pip` names the PyPI package whose pin in requirements.txt must equal `version`: a
dependency bump fails tests/engine_tests/test_upstream.py until the double has been reviewed
against the new version and this table updated."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    repo: str  # the GitHub repository whose source was read
    version: str  # the release read ("" where the source was read at no recorded release)
    commit: str | None = None  # the commit read, where it was recorded
    pip: str | None = None  # the Python package pinned to this version, if any


UPSTREAM: dict[str, Upstream] = {
    # The engine: step generation, diffs, secrets, checkpoints, display. The Python SDK is what the
    # program runs; the engine's source was read in the same 3.x line (no commit recorded).
    "pulumi": Upstream("pulumi/pulumi", "3.272.0", pip="pulumi"),
    "pulumi-command": Upstream("pulumi/pulumi-command", "1.2.1", pip="pulumi_command"),
    # pulumi-command's provider framework (infer/resource.go: markComputed, dependency wiring).
    "pulumi-go-provider": Upstream("pulumi/pulumi-go-provider", "1.3.0"),
    # The SSH client pulumi-command uses (client.go Dial, client_auth.go, session.go).
    "x/crypto/ssh": Upstream("golang/crypto", "0.48.0"),
    "pulumi-docker": Upstream("pulumi/pulumi-docker", "5.2.0", pip="pulumi_docker"),
    # What pulumi-docker bridges: schemas, create bodies, Read's flatten funcs.
    "terraform-provider-docker": Upstream("kreuzwerker/terraform-provider-docker", "4.5.0"),
    # The bridge's Diff, detailed diff (MakeDetailedDiffV2) and ignoreChanges: read at v3.136.0,
    # the nearest tag to pulumi-docker HEAD's v3.137.0 (FIDELITY.md, pulumi-docker 5.2.0).
    "pulumi-terraform-bridge": Upstream(
        "pulumi/pulumi-terraform-bridge", "3.136.0", "59de6c661df1e7561e6ece7ad7f1c835c63010c4"
    ),
    # helper/schema schemaMap.Diff: pulumi's fork of hashicorp/terraform-plugin-sdk, read at the
    # hashicorp release it follows.
    "terraform-plugin-sdk": Upstream("hashicorp/terraform-plugin-sdk", "2.40.1"),
    # The Docker client's service create (QueryRegistry, image references).
    "docker-client": Upstream("docker/docker", "28.5.2"),
}
