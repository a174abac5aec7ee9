"""`deepfm-gluon launch`: run `train` as a data-parallel job on MXNet's
parameter-server kvstore, on this machine or over ssh (docs/distributed.md)."""
import argparse
import signal
import sys

from .common import positive_float, positive_int


def add_parser(subparsers):
    p = subparsers.add_parser(
        "launch", help="train on N worker processes (and M kvstore servers), here or over ssh",
        description="Start a scheduler, M servers and N workers running `train` with "
                    "--kvstore dist_sync. Example: deepfm-gluon launch --workers 2 --servers 1 "
                    "-- train --model fm --epochs 5")
    p.add_argument("--workers", type=positive_int, required=True, help="number of workers (N)")
    p.add_argument("--servers", type=positive_int, default=1, help="number of kvstore servers (M)")
    p.add_argument("--kvstore", choices=["dist_sync", "dist_async"], default="dist_sync")
    p.add_argument("--hosts", default=None,
                   help="host file, one [user@]host[:ssh_port] per line: servers and workers are "
                        "started there over ssh, round-robin (default: all on this machine)")
    p.add_argument("--scheduler-host", default=None,
                   help="with --hosts: the address the hosts reach this machine at "
                        "(default: its fully qualified name)")
    p.add_argument("--port", type=positive_int, default=None,
                   help="scheduler port (default: a free one)")
    p.add_argument("--remote-python", default="python3", help="with --hosts: the Python to run there")
    p.add_argument("--remote-dir", default=None,
                   help="with --hosts: directory to run in there (default: the current one)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for every process (repeatable)")
    p.add_argument("--timeout", type=positive_float, default=None,
                   help="stop the whole job after this many seconds")
    p.add_argument("--dry-run", action="store_true", help="print the commands, start nothing")
    p.add_argument("train_command", nargs=argparse.REMAINDER, metavar="-- train ...",
                   help="-- train [train options]: the command every worker runs")
    p.set_defaults(run=run)


def _train_argv(args):
    from ..errors import DeepFMError
    command = list(args.train_command)
    if command and command[0] == "--":
        command = command[1:]
    if not command or command[0] != "train":
        raise DeepFMError("expected `-- train [options]` after the launch options")
    if any(a == "--kvstore" or a.startswith("--kvstore=") for a in command):
        raise DeepFMError("set the kvstore with `launch --kvstore`, not in the train command")
    from .main import build_parser
    train_args = build_parser().parse_args(command)  # bad train options fail here, not on N workers
    from ..distributed.sharding import per_worker_batch
    per_worker_batch(train_args.batch_size, args.workers)
    return command


def _extra_env(pairs):
    from ..errors import DeepFMError
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise DeepFMError(f"--env {pair!r}: expected NAME=VALUE")
        env[name] = value
    return env


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through run_job, which stops the job


def run(args):
    from ..distributed.launcher import build_job, command_line, parse_host_file, run_job
    command = _train_argv(args)
    hosts = parse_host_file(args.hosts) if args.hosts else None
    job = build_job(args.workers, args.servers, command, kvstore=args.kvstore, hosts=hosts,
                    scheduler_host=args.scheduler_host, port=args.port,
                    remote_python=args.remote_python, workdir=args.remote_dir,
                    extra_env=_extra_env(args.env))
    if args.dry_run:
        for role in job.roles:
            print(f"# {role.name}\n{command_line(role, job)}")
        return 0
    print(f"{args.kvstore} job: 1 scheduler at {job.root_uri}:{job.root_port}, {args.servers} "
          f"server(s), {args.workers} worker(s)", flush=True)
    # SIGTERM/SIGHUP to the launcher must still stop every process it started.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    seconds = run_job(job, log=lambda line: print(line, flush=True), timeout=args.timeout)
    print(f"all {args.workers} workers finished in {seconds:.1f}s", file=sys.stdout)
    return 0
