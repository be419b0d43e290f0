"""The stand-in images as the lab pushes them to its registry: names, manifests, determinism.
No root and no lab needed."""

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile

import pytest

from tests.lab.images import STANDIN_IMAGES, Build, ImageName, ImageNameError, entrypoint, parse
from tests.lab.paths import STANDIN

REGISTRY = "10.231.9.1:5000"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("hbpmip/exareme:v5", ImageName("hbpmip/exareme:v5", "hbpmip/exareme", "v5")),
        ("hbpmip/exareme", ImageName("hbpmip/exareme:latest", "hbpmip/exareme", "latest")),
        ("busybox:1", ImageName("busybox:1", "library/busybox", "1")),
        (
            "docker.io/hbpmip/exareme:v5",
            ImageName("docker.io/hbpmip/exareme:v5", "hbpmip/exareme", "v5"),
        ),
        (
            f"{REGISTRY}/lab/consul:2",
            ImageName(f"{REGISTRY}/lab/consul:2", "lab/consul", "2"),
        ),
        (f"{REGISTRY}/consul:2", ImageName(f"{REGISTRY}/consul:2", "consul", "2")),
    ],
)
def test_names_and_where_the_registry_keeps_them(image: str, expected: ImageName) -> None:
    assert parse(image, REGISTRY) == expected


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("not a valid image name", "not a valid image name"),
        ("HBPMIP/exareme:v5", "not a valid image name"),
        ("hbpmip/exareme:v5;id", "not a valid image name"),
        ("quay.io/hbpmip/exareme:v5", "names registry quay.io"),
        ("localhost/exareme:v5", "names registry localhost"),
    ],
)
def test_bad_names(image: str, message: str) -> None:
    with pytest.raises(ImageNameError, match=message):
        parse(image, REGISTRY)


def test_roles_by_name() -> None:
    roles = {name: parse(name, REGISTRY).role for name in STANDIN_IMAGES}
    assert roles == STANDIN_IMAGES
    assert parse("mip-lab/exareme-dev:3", REGISTRY).role == "exareme"
    assert parse("alpine:3", REGISTRY).role == "busybox"


def test_manifests_refer_to_their_blobs_and_are_deterministic() -> None:
    first, second = Build(), Build()
    for role in sorted(set(STANDIN_IMAGES.values())):
        image = first.image(role)
        assert image.manifest_digest == second.image(role).manifest_digest
        manifest = json.loads(image.manifest)
        assert manifest["config"]["digest"] == image.config.digest
        assert manifest["config"]["size"] == len(image.config.data)
        assert [layer["digest"] for layer in manifest["layers"]] == [first.layer.digest]
        config = json.loads(image.config.data)
        assert config["rootfs"]["diff_ids"] == [first.diff_id]
        assert config["config"]["Labels"] == {"org.mip-lab.stand-in": role}
    # One manifest per role: different roles, different digests.
    digests = {first.image(role).manifest_digest for role in set(STANDIN_IMAGES.values())}
    assert len(digests) == len(set(STANDIN_IMAGES.values()))


def test_the_layer_is_the_gzipped_diff() -> None:
    build = Build()
    layer = gzip.decompress(build.layer.data)
    assert "sha256:" + hashlib.sha256(layer).hexdigest() == build.diff_id
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        names = set(tar.getnames())
    scripts = {"lab/consul", "lab/exareme", "lab/portal", "lab/http", "lab/busybox-entry"}
    assert {"bin/busybox", "bin/sh", "usr/bin/nc", "bin/base64", *scripts} <= names
    for role in set(STANDIN_IMAGES.values()):
        assert entrypoint(role)[0].lstrip("/") in names
    # As the real Exareme image: `/bin/bash bootstrap.sh` in its WORKDIR /root/exareme.
    assert {"bin/bash", "root/exareme/bootstrap.sh"} <= names
    config = json.loads(build.image("exareme").config.data)["config"]
    assert config["WorkingDir"] == "/root/exareme"
    assert config["Entrypoint"] == ["/bin/sh", "-c", "/bin/bash bootstrap.sh"]


def test_standin_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is not installed (.ci/run installs it)")
    # SC2154: the handlers use the variables that http.sh's read_request sets.
    scripts = sorted(str(script) for script in STANDIN.glob("*.sh"))
    result = subprocess.run(
        [shellcheck, "--shell=sh", "--severity=warning", "--exclude=SC2154", "--", *scripts],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def _standin_function(script: str, name: str) -> str:
    text = (STANDIN / script).read_text()
    start = text.index(f"{name}() {{\n")
    return text[start : text.index("\n}\n", start) + 3]


@pytest.mark.parametrize(
    ("answers", "expected", "asked"),
    [
        (["lost", "200"], 0, 2),  # a lost request is asked again, not taken for "no keys"
        (["lost", "lost", "404"], 1, 3),
        (["200"], 0, 1),
    ],
)
def test_exareme_standin_asks_a_lost_keystore_lookup_again(tmp_path, answers, expected, asked):
    # The 1+29 benchmark's upgrade: the restarted master's `master/?keys` lookup timed out under
    # load, and the master waited for a first bootstrap's workers forever.
    (tmp_path / "answers").write_text("\n".join(answers) + "\n")
    fake_request = """
CR=$(printf '\\r')
request() {
	echo "$2" >> "$DIR/asked"
	answer=$(head -n 1 "$DIR/answers"); sed -i 1d "$DIR/answers"
	case $answer in
	lost) request_response=; return 1 ;;
	404) request_response="HTTP/1.0 404 Not Found$CR"; return 1 ;;
	*) request_response="HTTP/1.0 200 OK$CR"; return 0 ;;
	esac
}
sleep() { :; }
kv=http://keystore:8500/v1/kv
"""
    script = fake_request + _standin_function("exareme.sh", "kv_lists") + "kv_lists master\n"
    result = subprocess.run(
        ["sh", "-c", script], env={"DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}, check=False
    )
    assert result.returncode == expected
    asked_urls = (tmp_path / "asked").read_text().splitlines()
    assert asked_urls == ["http://keystore:8500/v1/kv/master/?keys"] * asked
