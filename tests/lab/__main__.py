"""python -m tests.lab up N | down | status | ssh I CMD... | run I CMD... | reset | stack ...
| deploy STACKFILE [--secrets FILE] [--state FILE] [--refresh] [--parallel N]
| preview STACKFILE [--diff] [--json] [--refresh] [--parallel N] | refresh STACKFILE [...]
| destroy STACKFILE [...]"""

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

from .host import LabError
from .lab import Lab
from .stack import ldsm_secrets, to_yaml


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    parser.add_argument("--prefix", default="mip", help="host name prefix, names the lab")
    parser.add_argument("--subnet", default="10.231.0", help="first three bytes of the addresses")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="bring up N hosts mip1..mipN (adds or removes hosts)")
    up.add_argument("n", type=int)
    up.add_argument(
        "--image", action="append", default=[], help="extra stand-in image name (repeatable)"
    )
    commands.add_parser("down", help="stop and remove everything up created")
    commands.add_parser("status", help="hosts, addresses, sshd, dockerd, swarm state, memory")
    commands.add_parser("reset", help="every host out of swarm, no containers/networks/volumes")
    for name, how in (("ssh", "over real ssh"), ("run", "directly in the host's namespaces")):
        command = commands.add_parser(name, help=f"run a command on host I as root, {how}")
        command.add_argument("index", type=int)
        command.add_argument("words", nargs=argparse.REMAINDER)
    stack = commands.add_parser("stack", help="print a Pulumi stack file for the running lab")
    stack.add_argument("--names", required=True, help="node names, comma-separated, in host order")
    stack.add_argument("--managers", type=int, default=1, help="the first K nodes are managers")
    stack.add_argument("--unencrypted", action="store_true", help="plain overlay network")
    stack.add_argument(
        "--secrets-file",
        type=Path,
        help="also write an LDSM password per node to this YAML file (mode 600), for deploy "
        "--secrets; passwords already in it are kept",
    )
    stack.add_argument("--stack-name", default="dev", help="named in the header comment")
    for action in ("deploy", "preview", "refresh", "destroy"):
        command = commands.add_parser(
            action,
            help=f"{action} a stack on the running lab with the engine double "
            "(python -m tests.engine " + action + " -h for its options)",
        )
        command.add_argument("engine_args", nargs=argparse.REMAINDER)
    return parser


def _status(lab: Lab) -> int:
    if not lab.is_up():
        print("lab is down")
        return 1
    memory = lab.memory()
    print(f"{'HOST':8} {'IP':13} {'RUNNING':8} {'SSHD':5} {'DOCKERD':8} {'SWARM':9} RSS")
    healthy = True
    for s in lab.status():
        rss = memory[s.host.name].rss // 2**20
        yes = {True: "yes", False: "NO"}
        print(
            f"{s.host.name:8} {s.host.ip:13} {yes[s.running]:8} {yes[s.sshd]:5} "
            f"{yes[s.dockerd]:8} {s.swarm:9} {rss} MiB"
        )
        healthy = healthy and s.running and s.sshd and s.dockerd
    total = sum(m.rss for m in memory.values()) // 2**20
    print(f"total RSS {total} MiB")
    return 0 if healthy else 1


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("deploy", "preview", "refresh", "destroy"):
        from tests.engine.__main__ import main as engine_main

        return engine_main([args.command, *args.engine_args])
    lab = Lab(args.prefix, args.subnet)
    if args.command == "up":
        lab.up(args.n, args.image)
    elif args.command == "down":
        lab.down()
    elif args.command == "status":
        return _status(lab)
    elif args.command == "reset":
        lab.reset()
    elif args.command == "ssh":
        return subprocess.run([*lab.ssh_command(args.index), *args.words], check=False).returncode
    elif args.command == "run":
        result = lab.run(args.index, " ".join(args.words), check=False)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        return result.returncode
    elif args.command == "stack":
        names = [name.strip() for name in args.names.split(",")]
        config = lab.stack_config(names, args.managers, encrypted=not args.unencrypted)
        if args.secrets_file is not None:
            path = args.secrets_file
            existing = yaml.safe_load(path.read_text()) if path.exists() else None
            path.touch(mode=0o600)
            path.write_text(yaml.safe_dump(ldsm_secrets(names, existing)))
        sys.stdout.write(to_yaml(config, args.stack_name))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except LabError as error:
        sys.exit(f"lab: {error}")
