"""Start and watch a kvstore job: one scheduler, M servers, N workers.

The roles are MXNet's (ps-lite's): each process learns its role and where the
scheduler listens from DMLC_* environment variables. On one machine every
process is a local child and all traffic stays on 127.0.0.1; with a host
file, the scheduler runs here and servers and workers are started over ssh,
round-robin over the hosts.

ps-lite does not notice a dead peer: the others wait in push/pull forever.
So the launcher watches every child and, at the first non-zero exit, stops
all the rest and fails naming the one that died.
"""
import dataclasses
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

from ..errors import DeepFMError

LOCALHOST = "127.0.0.1"
# Scheduler and servers run the package's server (distributed/ps_server.py): it
# takes the optimizer as JSON and answers the package's commands; MXNet's own
# (what `import mxnet` runs with DMLC_ROLE set) would unpickle command bodies.
SERVER_ARGV = ["-m", "deepfm_gluon.distributed.ps_server"]
SCHEDULER_ARGV = SERVER_ARGV


class JobFailed(DeepFMError):
    """A process of the job exited with an error, or the job ran too long."""


@dataclasses.dataclass
class Host:
    """One line of a host file: ``[user@]host[:ssh_port]``."""

    target: str              # what ssh connects to: [user@]host
    address: str             # the host part: what peers use to reach it
    ssh_port: int = None


@dataclasses.dataclass
class Role:
    """One process of a job: what it runs, its DMLC_* environment, where."""

    kind: str                # scheduler | server | worker
    index: int
    argv: list
    env: dict
    host: Host = None        # None: this machine

    @property
    def name(self):
        return self.kind if self.kind == "scheduler" else f"{self.kind} {self.index}"


@dataclasses.dataclass
class Job:
    roles: list
    root_uri: str
    root_port: int
    kvstore: str
    workdir: str = None      # where remote commands run


def free_port(host=LOCALHOST):
    """A TCP port nobody listens on now (the OS picks it; a race with another
    process taking it before the scheduler binds is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def parse_host_file(path):
    """Hosts from a file: one ``[user@]host[:ssh_port]`` per line; blank
    lines and ``#`` comments are ignored."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as err:
        raise DeepFMError(f"--hosts {path}: cannot read ({err.strerror})") from None
    hosts = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        target, port = line, None
        if ":" in line:
            target, _, text = line.rpartition(":")
            if not text.isdigit() or not 0 < int(text) < 65536:
                raise DeepFMError(f"{path}:{number}: bad ssh port {text!r} (expected [user@]host[:port])")
            port = int(text)
        address = target.rpartition("@")[2]
        if not address or any(c.isspace() for c in target):
            raise DeepFMError(f"{path}:{number}: cannot read {raw.strip()!r} (expected [user@]host[:port])")
        hosts.append(Host(target, address, port))
    if not hosts:
        raise DeepFMError(f"--hosts {path}: lists no host")
    return hosts


def build_job(num_workers, num_servers, train_argv, kvstore="dist_sync", hosts=None,
              scheduler_host=None, port=None, python=sys.executable, remote_python="python3",
              workdir=None, extra_env=None):
    """The roles of a job. Workers run ``python -m deepfm_gluon <train_argv>
    --kvstore <kvstore>``; the scheduler always runs on this machine."""
    if num_workers < 1 or num_servers < 1:
        raise DeepFMError("a job needs at least one worker and one server")
    if hosts:
        root_uri = scheduler_host or socket.getfqdn()
        root_port = port or free_port("")
    else:
        root_uri, root_port = LOCALHOST, port or free_port(LOCALHOST)
    common = {"DMLC_PS_ROOT_URI": root_uri, "DMLC_PS_ROOT_PORT": str(root_port),
              "DMLC_NUM_SERVER": str(num_servers), "DMLC_NUM_WORKER": str(num_workers),
              **(extra_env or {})}

    def role(kind, index, host, args):
        exe = remote_python if host else python
        # DMLC_NODE_HOST: the address this node advertises to its peers.
        env = {**common, "DMLC_ROLE": kind, "DMLC_NODE_HOST": host.address if host else root_uri}
        return Role(kind, index, [exe, *args], env, host)

    roles = [role("scheduler", 0, None, SCHEDULER_ARGV)]
    roles += [role("server", i, hosts[i % len(hosts)] if hosts else None, SERVER_ARGV)
              for i in range(num_servers)]
    worker_argv = ["-m", "deepfm_gluon", *train_argv, "--kvstore", kvstore]
    roles += [role("worker", i, hosts[i % len(hosts)] if hosts else None, worker_argv)
              for i in range(num_workers)]
    return Job(roles, root_uri, root_port, kvstore, workdir or os.getcwd())


def ssh_command(role, workdir):
    """The ssh argv that runs ``role`` on its host. ``-tt`` gives the remote
    process a terminal, so it gets SIGHUP when the launcher stops ssh."""
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(role.env.items()))
    remote = f"cd {shlex.quote(workdir)} && exec env {env} {shlex.join(role.argv)}"
    port = ["-p", str(role.host.ssh_port)] if role.host.ssh_port else []
    return ["ssh", "-tt", "-o", "BatchMode=yes", *port, role.host.target, remote]


def command_line(role, job):
    """One shell line per role: what `launch --dry-run` prints."""
    if role.host is not None:
        return shlex.join(ssh_command(role, job.workdir))
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(role.env.items()))
    return f"env {env} {shlex.join(role.argv)}"


SSH_ENDED = 255  # what ssh exits with when the session ends abnormally


def _describe_exit(code, host=None):
    if host is not None and code == SSH_ENDED:
        return (f"exited with code {code}: the ssh session to {host.address} ended (the remote "
                "process was killed or the connection was lost)")
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class _Process:
    """A started role: its Popen and the thread copying its output, prefixed."""

    def __init__(self, role, job, out, lock):
        self.role = role
        if role.host is None:
            argv, env = role.argv, {**os.environ, **role.env, "PYTHONUNBUFFERED": "1"}
        else:
            argv, env = ssh_command(role, job.workdir), None
        # Own session: stopping the role stops whatever it started, and a
        # Ctrl-C in the terminal reaches the launcher only, which stops all.
        try:
            self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        except OSError as err:
            raise JobFailed(f"cannot start {role.name} ({argv[0]}: {err.strerror})") from None
        self.thread = threading.Thread(target=self._copy, args=(out, lock), daemon=True)
        self.thread.start()

    def _copy(self, out, lock):
        prefix = f"[{self.role.name}] "
        for raw in iter(self.popen.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with lock:
                out.write(prefix + line + "\n")
                out.flush()

    def poll(self):
        return self.popen.poll()

    def signal(self, sig):
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass


def _stop(processes, wait=5.0):
    """SIGTERM every running role, then SIGKILL what is left after ``wait`` s."""
    for p in processes:
        p.signal(signal.SIGTERM)
    deadline = time.monotonic() + wait
    while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    for p in processes:
        p.signal(signal.SIGKILL)
    for p in processes:
        try:
            p.popen.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
        p.thread.join(timeout=1.0)


def run_job(job, log=print, out=None, timeout=None, settle=30.0, poll=0.1):
    """Run every role of ``job`` and wait until all workers succeed.

    Raises JobFailed naming the first process that exits non-zero (after
    stopping all others), or when ``timeout`` seconds pass. Servers and the
    scheduler end on their own after the workers; any still running
    ``settle`` seconds later are stopped.
    """
    out = out or sys.stdout
    lock = threading.Lock()
    processes = []
    watch = sorted(range(len(job.roles)), key=lambda i: job.roles[i].kind != "worker")
    start = time.monotonic()
    try:
        for role in job.roles:
            processes.append(_Process(role, job, out, lock))
            where = f" on {role.host.address}" if role.host else ""
            log(f"started {role.name} (pid {processes[-1].popen.pid}){where}")
        workers = [p for p in processes if p.role.kind == "worker"]
        while not all(p.poll() == 0 for p in workers):
            for i in watch:  # workers first: a worker's death is the cause, not a peer's
                code = processes[i].poll()
                if code not in (None, 0):
                    others = sum(p.poll() is None for p in processes)
                    how = _describe_exit(code, processes[i].role.host)
                    raise JobFailed(f"{processes[i].role.name} (pid {processes[i].popen.pid}) "
                                    f"{how}; stopped the other {others} "
                                    f"process(es) of the job")
            if timeout is not None and time.monotonic() - start > timeout:
                raise JobFailed(f"the job ran past --timeout {timeout:g}s; stopped its "
                                f"{sum(p.poll() is None for p in processes)} running process(es)")
            time.sleep(poll)
        deadline = time.monotonic() + settle
        while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
            time.sleep(poll)
        late = [p.role.name for p in processes if p.poll() is None]
        if late:
            log(f"warning: {', '.join(late)} still running {settle:g}s after the workers "
                "finished; stopping them")
        failed = [p for p in processes if p.poll() not in (None, 0)]
        if failed:
            raise JobFailed(f"{failed[0].role.name} {_describe_exit(failed[0].poll(), failed[0].role.host)} "
                            "after the workers finished")
        return time.monotonic() - start
    finally:
        _stop(processes)
