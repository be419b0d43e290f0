"""The local lab: hosts PREFIX1..PREFIXn (default mip1..) on a bridge, each with its own network,
mount, UTS and pid namespaces, a real sshd and a real dockerd, driven from the root namespace."""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import engine, keys, net, procs, stack
from . import host as hosts_
from . import images as images_
from . import registry as registry_
from . import resolver as resolver_
from .host import Host, LabError
from .paths import CLIENT_KEY, DATA, HOST_ENV, KEYS, KNOWN_HOSTS, NETNS, STATE
from .state import State, lock, note_missing_directories, remove_directories_if_last

if TYPE_CHECKING:
    import docker

MAX_HOSTS = 200
T = TypeVar("T")
R = TypeVar("R")


def log(message: str) -> None:
    print(f"[lab] {message}", file=sys.stderr, flush=True)


class HostCommandError(subprocess.CalledProcessError):
    """A command run on a lab host failed. Its message names the host and shows the output."""

    def __init__(self, host: str, result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(result.returncode, result.args, result.stdout, result.stderr)
        self.host = host

    def __str__(self) -> str:
        output = f"stdout: {self.stdout[-3000:]}\nstderr: {self.stderr[-3000:]}"
        return f"on {self.host}: {super().__str__()}\n{output}"


@dataclass(frozen=True)
class Memory:
    rss: int  # bytes; pages shared by several processes count once per process
    pss: int  # bytes; shared pages are split between the processes sharing them


@dataclass(frozen=True)
class HostStatus:
    host: Host
    running: bool
    sshd: bool
    dockerd: bool
    swarm: str  # inactive, manager, worker, pending, error, locked; "-" if dockerd does not answer


def _parallel(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    with ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
        return list(pool.map(function, items))


def _require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts, dockerd)")


class Lab:
    """A lab of hosts PREFIX1..PREFIXn at SUBNET.11, .12, ... on bridge PREFIXbr0 (SUBNET.1/24).
    Several labs with different prefixes and subnets can run side by side."""

    def __init__(self, prefix: str = "mip", subnet: str = "10.231.0") -> None:
        self.prefix = prefix
        self.subnet = subnet
        self.bridge = f"{prefix}br0"
        self.state_file = STATE / f"{prefix}.json"
        self.key_file = CLIENT_KEY
        self.known_hosts_file = KNOWN_HOSTS
        self._registry = registry_.Registry(prefix, f"{subnet}.1")
        self._resolver = resolver_.Resolver(f"{subnet}.1", DATA / f"{prefix}-resolver.log")

    # Hosts

    def host(self, index: int) -> Host:
        return Host(index, f"{self.prefix}{index}", f"{self.subnet}.{10 + index}")

    @property
    def hosts(self) -> list[Host]:
        """The running lab's hosts, in order; empty when the lab is down."""
        state = State.load(self.state_file)
        return [self.host(index) for index in sorted(state.hosts)] if state else []

    def is_up(self) -> bool:
        return self.state_file.exists()

    def started_here(self) -> bool:
        """True if the running lab uses this checkout's keys (.lab/): another checkout's lab has
        hosts that trust another client key and present other host keys."""
        state = State.load(self.state_file)
        return state is not None and state.keys == str(KEYS)

    def host_key(self, index: int) -> str:
        """The host's public ssh host key, "ssh-ed25519 AAAA..."."""
        return keys.public_key(self._host(index).host_key_file)

    def known_hosts_line(self, index: int) -> str:
        return f"{self.host(index).ip} {self.host_key(index)}"

    # Up and down

    def up(self, n: int, images: Iterable[str] = ()) -> None:
        """Bring the lab to n hosts and its registry, holding the stand-in images plus `images`.
        Idempotent: running hosts are kept (hosts above n are removed, dead ones booted again),
        missing images pushed. If anything fails, the whole lab is taken down again."""
        _require_root()
        if not 1 <= n <= MAX_HOSTS:
            raise LabError(f"the lab has 1 to {MAX_HOSTS} hosts, not {n}")
        started = time.monotonic()
        with lock():
            state = State.load(self.state_file)
            if state is not None and not net.link_exists(self.bridge):
                log(f"cleaning up what an earlier {self.prefix} lab left")
                self._teardown()
                state = None
            if state is not None and state.keys != str(KEYS):
                log(f"the {self.prefix} lab was started from {state.keys}: starting it again here")
                self._teardown()
                state = None
            try:
                state = state or self._create_network()
                self._ensure_registry(state, images)
                self._resolver.start()
                self._ensure_hosts(state, n)
            except BaseException:
                log("up failed: taking the lab down")
                self._teardown()
                raise
        log(f"{self.prefix} lab up: {n} host(s) in {time.monotonic() - started:.1f}s")

    def down(self) -> None:
        """Stop everything `up` started and remove what it created. Idempotent."""
        _require_root()
        started = time.monotonic()
        with lock():
            self._teardown()
        log(f"{self.prefix} lab down in {time.monotonic() - started:.1f}s")

    def _create_network(self) -> State:
        keys.ensure_client_key()
        note_missing_directories()
        state = State(keys=str(KEYS))
        state.save(self.state_file)
        net.create_bridge(self.bridge, f"{self.subnet}.1/24")
        for rule in net.forward_rules(self.bridge):
            net.insert_rule(rule)
            state.rules.append(rule)
            state.save(self.state_file)
        return state

    def _ensure_registry(self, state: State, images: Iterable[str] = ()) -> None:
        """Start the registry unless it runs; push the stand-ins it does not have, or has in an
        older build (a lab left up across a change of the stand-ins' scripts)."""
        names = {
            name.reference: name
            for name in map(self._parse, (*images_.STANDIN_IMAGES, *state.images, *images))
        }
        if not registry_.running(self._registry, state.registry):
            if state.registry is not None:
                log(f"the {self.prefix} registry is not running: starting it again")
            state.registry = registry_.start(self._registry)
            state.save(self.state_file)
        build = images_.Build()
        missing = [
            name
            for name in names.values()
            if registry_.digest(self._registry, name) != build.image(name.role).manifest_digest
        ]
        if missing:
            started = time.monotonic()
            registry_.push(self._registry, build, missing)
            took = time.monotonic() - started
            log(f"pushed {len(missing)} image(s) to {self.registry} in {took:.2f}s")
        state.images = sorted(names)
        state.save(self.state_file)

    def _daemon_config(self) -> dict[str, list[str]]:
        """A host's daemon.json: the registry as its Docker Hub mirror, the resolver as its
        containers' DNS."""
        return {**self._registry.daemon_config(), **self._resolver.daemon_config()}

    def _parse(self, image: str) -> images_.ImageName:
        try:
            return images_.parse(image, self.registry)
        except images_.ImageNameError as error:
            raise LabError(str(error)) from None

    def _ensure_hosts(self, state: State, n: int) -> None:
        daemon_config = self._daemon_config()
        for index in sorted(index for index in state.hosts if index > n):
            log(f"removing {self.host(index).name}")
            self._remove_host(self.host(index))
            del state.hosts[index]
            state.save(self.state_file)
        hosts = [self.host(index) for index in range(1, n + 1)]
        for host in hosts:
            keys.ensure_key(host.host_key_file, f"mip-lab {host.name}")
        keys.pin_host_keys({host.ip: keys.public_key(host.host_key_file) for host in hosts})

        def ensure(host: Host) -> int:
            pid = state.hosts.get(host.index)
            if pid is None:
                return self._start_host(host, fresh=True)
            if not self._running(host, pid):
                log(f"{host.name} is not running: booting it again")
            elif not hosts_.has_daemon_config(host, daemon_config):
                log(f"{host.name}: dockerd lacks the lab registry or resolver: rebooting it")
            else:
                return pid
            hosts_.kill(host)
            return self._start_host(host, fresh=False)

        names = [host.name for host in hosts if host.index not in state.hosts]
        if names:
            log(f"booting {', '.join(names)}")
        state.hosts = dict(zip(range(1, n + 1), _parallel(ensure, hosts), strict=True))
        state.save(self.state_file)

    def _teardown(self) -> None:
        state = State.load(self.state_file)
        indexes = set(state.hosts) if state else set()
        pattern = re.compile(rf"v?{re.escape(self.prefix)}(\d+)")
        for directory in (NETNS, DATA, Path("/sys/class/net")):
            names = os.listdir(directory) if directory.exists() else []
            indexes.update(int(m[1]) for m in map(pattern.fullmatch, names) if m)
        _parallel(self._remove_host, [self.host(index) for index in sorted(indexes)])
        registry_.stop(self._registry)
        procs.kill_and_wait(self._resolver.pids())
        self._resolver.log.unlink(missing_ok=True)
        net.delete_link(self.bridge)
        for rule in state.rules if state else ():
            net.delete_rule(rule)
        self.state_file.unlink(missing_ok=True)
        remove_directories_if_last()

    def _start_host(self, host: Host, fresh: bool) -> int:
        """Disks (wiped if `fresh`), network (link up), boot. Returns the PID 1."""
        hosts_.prepare_disks(host, fresh, self._daemon_config())
        net.create_host_link(self.bridge, host.name, host.veth, f"{host.ip}/24")
        return hosts_.boot(host)

    @staticmethod
    def _remove_host(host: Host) -> None:
        hosts_.kill(host)
        net.delete_host_link(host.name, host.veth)
        shutil.rmtree(host.data, ignore_errors=True)

    # Running commands

    def run(
        self,
        index: int,
        command: str,
        check: bool = True,
        timeout: float = 120.0,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `sh -c command` as root on the host, directly in its namespaces (no ssh)."""
        return self._execute(
            self.host(index),
            [*hosts_.nsenter(self._pid(index)), "sh", "-c", command],
            check,
            timeout,
            input,
        )

    def ssh_options(self, known_hosts: Path | None = None) -> list[str]:
        """ssh options for the lab: its key, the pinned host keys (or those in `known_hosts`), no
        user or system ssh configuration. Also fit for pulumi-docker's `ssh_opts`."""
        options = {
            "IdentitiesOnly": "yes",
            "BatchMode": "yes",
            "UserKnownHostsFile": str(known_hosts or KNOWN_HOSTS),
            "GlobalKnownHostsFile": "/dev/null",
            "StrictHostKeyChecking": "yes",
            "ConnectTimeout": "5",
            "LogLevel": "ERROR",
        }
        flags = [item for name, value in options.items() for item in ("-o", f"{name}={value}")]
        return ["-F", "/dev/null", "-i", str(CLIENT_KEY), *flags]

    def ssh_command(self, index: int, known_hosts: Path | None = None) -> list[str]:
        """The ssh command line for root on the host; append the remote command."""
        return ["ssh", *self.ssh_options(known_hosts), f"root@{self._host(index).ip}"]

    def ssh(
        self,
        index: int,
        command: str,
        check: bool = True,
        timeout: float = 120.0,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` as root on the host over real ssh."""
        return self._execute(
            self.host(index), [*self.ssh_command(index), command], check, timeout, input
        )

    def docker(self, index: int) -> "docker.DockerClient":
        """A Docker SDK client for the host's dockerd, through its socket."""
        import docker

        return docker.DockerClient(base_url=self._host(index).docker_url)

    @staticmethod
    def _execute(
        host: Host, args: list[str], check: bool, timeout: float, input: str | None
    ) -> subprocess.CompletedProcess[str]:
        stdin = subprocess.DEVNULL if input is None else subprocess.PIPE
        with subprocess.Popen(
            args,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=HOST_ENV,
            cwd="/",
            start_new_session=True,
        ) as process:
            try:
                stdout, stderr = process.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise
        result = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
        if check and result.returncode:
            raise HostCommandError(host.name, result)
        return result

    # Pulumi stack

    def stack_config(
        self, names: Sequence[str], managers: int = 1, encrypted: bool = True
    ) -> dict[str, Any]:
        """The Pulumi stack file for the running lab, as a dict: nodes `names` on hosts 1, 2, ...;
        the first `managers` are managers; the MIP images pinned to the digests the lab registry
        serves (`image_ref`); the master's query port open to the lab's bridge address, from which
        the tests ask it (tests/lab/exareme_check.py), and closed to the lab's hosts."""
        self._state()
        images = {key: self.image_ref(image) for key, image in stack.IMAGES.items()}
        allow_from = [f"{self.subnet}.1"]
        return stack.stack_config(self.hosts, names, managers, encrypted, images, allow_from)

    # Images

    @property
    def registry(self) -> str:
        """The lab registry's address, host:port (plain HTTP), e.g. "10.231.0.1:5000". The hosts
        pull Docker Hub names (hbpmip/exareme:v5) from it as their mirror, and REGISTRY/path:tag
        names from it directly."""
        return self._registry.address

    def image_ref(self, image: str) -> str:
        """The stand-in `image` pinned to the digest the lab registry serves for it, as the
        provider's QueryRegistry pins it: "hbpmip/exareme:v5@sha256:..."."""
        self._state()
        name = self._parse(image)
        try:
            digest = registry_.digest(self._registry, name)
        except OSError as error:
            raise LabError(
                f"the {self.prefix} lab registry at {self.registry} does not answer ({error}); "
                "up starts it again"
            ) from None
        if digest is None:
            raise LabError(f"the {self.prefix} lab registry has no {name.reference} (up --image)")
        return f"{name.reference}@{digest}"

    def pull(
        self, indexes: Iterable[int] | None = None, images: Iterable[str] | None = None
    ) -> None:
        """Pull stand-ins (default: all the lab's) on hosts (default: all), in parallel, from the
        lab registry, as a task would; to have them on a host before a test."""
        state = self._state()
        wanted = [self._parse(image).reference for image in images or state.images]
        hosts = [self._host(index) for index in indexes or sorted(state.hosts)]
        command = " && ".join(f"docker pull -q {image} >/dev/null" for image in wanted)
        _parallel(lambda host: self.run(host.index, command), hosts)

    # Faults and maintenance

    def reset(self) -> None:
        """Every host as just brought up, in parallel and in about a second: killed, disks wiped,
        link up, booted again. So: no swarm, containers, services, networks, volumes or images
        (tasks pull them from the lab registry, which keeps them; `pull` to have them at once),
        and nothing left in /root or /tmp, nor in /etc/docker beyond the lab's daemon.json, nor in
        the network namespace (interfaces, iptables rules).
        (Faster and surer than leaving the swarm: on this kernel `docker swarm leave` waits 5 s
        for the ingress network, and a quick re-join may then fail to bind the gossip port
        7946.)"""
        with lock():
            state = self._state()
            self._ensure_registry(state)
            self._resolver.start()

            def reset_host(host: Host) -> int:
                # A new network namespace too: what the old one held (bridges, iptables rules a
                # test added, addresses) would outlive the processes.
                self._remove_host(host)
                return self._start_host(host, fresh=True)

            hosts = [self.host(index) for index in sorted(state.hosts)]
            state.hosts = dict(zip(sorted(state.hosts), _parallel(reset_host, hosts), strict=True))
            state.save(self.state_file)

    def link_down(self, index: int) -> None:
        """Cut the host's network cable (its veth goes down)."""
        net.set_link(self._host(index).veth, up=False)

    def link_up(self, index: int) -> None:
        net.set_link(self._host(index).veth, up=True)

    def ssh_only_from(self, index: int, bastion: int) -> None:
        """Make host `index` reachable over SSH only from host `bastion` (its jump host): the
        root namespace and the other hosts get a reset on port 22. Undone by `reset`."""
        source = self._host(bastion).ip
        for rule in net.ssh_only_from(source):
            self.run(index, shlex.join(["iptables", "-w", "-A", *rule]))

    def stop_dockerd(self, index: int) -> None:
        """Stop dockerd (SIGTERM) and wait until it has exited."""
        self.run(index, f"sh {self._host(index).scripts / 'stop-dockerd.sh'}")

    def start_dockerd(self, index: int, timeout: float = 30.0) -> None:
        """Start dockerd unless it answers, and wait until it does."""
        host = self._host(index)
        if hosts_.dockerd_answers(host):
            return
        self.run(index, f"sh {host.scripts / 'start-dockerd.sh'} {host.name} {host.data}")
        hosts_.wait_ready(host, self._pid(index), time.monotonic() + timeout, ("dockerd",))

    def restart_dockerd(self, index: int) -> None:
        self.stop_dockerd(index)
        self.start_dockerd(index)

    def reboot(self, *indexes: int) -> None:
        """Hard reboot of the hosts, in parallel: kill all their processes (containers included),
        then start sshd and dockerd again on the same disks. dockerd keeps its swarm state."""
        with lock():
            state = self._state()
            hosts = [self._host(index) for index in indexes]
            log(f"rebooting {', '.join(host.name for host in hosts)}")

            def reboot_host(host: Host) -> int:
                hosts_.kill(host)
                return hosts_.boot(host)

            state.hosts.update(zip(indexes, _parallel(reboot_host, hosts), strict=True))
            state.save(self.state_file)

    # Observation

    def status(self) -> list[HostStatus]:
        def host_status(host: Host) -> HostStatus:
            dockerd = hosts_.dockerd_answers(host)
            swarm = "-"
            if dockerd:
                info = engine.info(host.docker_socket)["Swarm"]
                swarm = info["LocalNodeState"]
                if swarm == "active":
                    swarm = "manager" if info["ControlAvailable"] else "worker"
            running = hosts_.init_pid(host) is not None
            return HostStatus(host, running, hosts_.sshd_answers(host), dockerd, swarm)

        return _parallel(host_status, self.hosts)

    def memory(self) -> dict[str, Memory]:
        """Memory of each running host's processes: init, sshd, dockerd, containerd, containers."""
        usage = {}
        for host in self.hosts:
            pid = hosts_.init_pid(host)
            tree = procs.descendants(pid) if pid else []
            kib = [procs.memory_kib(process) for process in tree]
            usage[host.name] = Memory(1024 * sum(r for r, _ in kib), 1024 * sum(p for _, p in kib))
        return usage

    # Helpers

    def _state(self) -> State:
        state = State.load(self.state_file)
        if state is None:
            raise LabError(f"the {self.prefix} lab is not up (python -m tests.lab up N)")
        return state

    def _host(self, index: int) -> Host:
        """The host, which must be part of the running lab."""
        if index not in self._state().hosts:
            raise LabError(f"the {self.prefix} lab has no host {index}")
        return self.host(index)

    def _pid(self, index: int) -> int:
        """Root-namespace pid of the host's PID 1, which must run."""
        host = self._host(index)
        pid = self._state().hosts[index]
        if not self._running(host, pid):
            raise LabError(f"{host.name} is not running")
        return pid

    @staticmethod
    def _running(host: Host, pid: int) -> bool:
        netns = procs.namespace_id(host.netns)
        return netns is not None and procs.is_namespace_init(pid, netns)
