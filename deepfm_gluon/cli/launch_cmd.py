"""`deepfm-gluon launch`: run `train` as a data-parallel job on MXNet's
parameter-server kvstore, on this machine or over ssh (docs/distributed.md)."""
import os
import signal
import socket
import sys

from ..distributed.launcher import build_job, command_line, parse_host_file, run_job
from ..distributed.sharding import per_worker_batch
from ..errors import DeepFMError
from .common import resolve_preset
from .parser import build_parser


def _train_argv(args):
    command = list(args.train_command)
    if command and command[0] == "--":
        command = command[1:]
    if not command or command[0] != "train":
        raise DeepFMError("expected `-- train [options]` after the launch options")
    if any(a == "--kvstore" or a.startswith("--kvstore=") for a in command):
        raise DeepFMError("set the kvstore with `launch --kvstore`, not in the train command")
    train_args = build_parser().parse_args(command)  # bad train options fail here, not on N workers
    per_worker_batch(resolve_preset(train_args, note=lambda line: None).batch_size, args.workers)
    return command


def prepare_data_once(command, log=print):
    """Build the cache of ``train --data NAME:PATH`` (a table source) here, once,
    before any worker starts; the workers then memory-map it (a shared
    filesystem, or the same path on every host: docs/distributed.md). Other
    data: nothing to do."""
    train_args = build_parser().parse_args(command)
    if getattr(train_args, "resume", None):
        return
    from ..data.sources import prepare_cache, resolve  # start-up: launches only
    source, _ = resolve(train_args.data)
    if not source.is_table:
        return
    from .common import data_options  # with the function above: imported here for start-up
    folder, _ = prepare_cache(train_args.data, train_args.data_dir, data_options(train_args))
    log(f"{source.name} cache ready in {folder} (built once, before the workers)")


def _extra_env(pairs):
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise DeepFMError(f"--env {pair!r}: expected NAME=VALUE")
        env[name] = value
    return env


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through run_job, which stops the job


def check_port_free(port):
    """A one-line error when this machine's ``port`` is taken: otherwise the
    scheduler dies and the job reports only 'exited with code 1'."""
    for host in ("127.0.0.1", ""):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError as err:
                raise DeepFMError(f"--port {port}: in use on this machine ({err.strerror}); "
                                  "pick another or leave --port out") from None


def check_resume_servers(command, servers):
    """Refuse, before any process starts, to resume a parameter-server job's
    checkpoints with another number of servers (their states are sharded by server)."""
    resume = build_parser().parse_args(command).resume
    if resume:
        from ..distributed.ps_server import server_count_problem  # here to keep start-up fast (resumes only)
        problem = server_count_problem(os.path.join(resume, "checkpoints"), servers)
        if problem:
            raise DeepFMError(problem)


def run(args):
    command = _train_argv(args)
    check_resume_servers(command, args.servers)
    if args.port is not None and not args.dry_run and not args.hosts:
        check_port_free(args.port)
    hosts = parse_host_file(args.hosts) if args.hosts else None
    job = build_job(args.workers, args.servers, command, kvstore=args.kvstore, hosts=hosts,
                    scheduler_host=args.scheduler_host, port=args.port,
                    remote_python=args.remote_python, workdir=args.remote_dir,
                    extra_env=_extra_env(args.env))
    if args.dry_run:
        for role in job.roles:
            print(f"# {role.name}\n{command_line(role, job)}")
        return 0
    prepare_data_once(command)
    print(f"{args.kvstore} job: 1 scheduler at {job.root_uri}:{job.root_port}, {args.servers} "
          f"server(s), {args.workers} worker(s)", flush=True)
    # SIGTERM/SIGHUP to the launcher must still stop every process it started.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    seconds = run_job(job, log=lambda line: print(line, flush=True), timeout=args.timeout)
    print(f"all {args.workers} workers finished in {seconds:.1f}s", file=sys.stdout)
    return 0
