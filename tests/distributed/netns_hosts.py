"""Fake "hosts" for multi-machine tests: Linux network namespaces with sshd.

    python tests/distributed/netns_hosts.py up 3      # hosts 10.77.0.2 .. 10.77.0.4
    python tests/distributed/netns_hosts.py down
    python tests/distributed/netns_hosts.py status

Each host is a network namespace ``dfm-h<i>`` with loopback and one veth
(``eth0``, 10.77.0.<i+2>/24) whose peer sits on a bridge inside a namespace
of its own (``dfm-br``). Nothing is added to the root namespace, there is no
default route, so traffic can only go between these addresses (and each
namespace's loopback). Each host runs ``sshd`` (Debian's openssh-server)
listening on its address only, accepting one key made for the test.

Processes started with ``ssh root@10.77.0.3 CMD`` run inside that
namespace; the filesystem is shared, so a venv and data paths are the same
everywhere, like hosts on a shared filesystem. The ssh client settings
(key, no host-key prompts) live in STATE/ssh_config; STATE/bin/ssh wraps
``ssh -F STATE/ssh_config``, so a launcher run with STATE/bin first on PATH
reaches the hosts without touching ~/.ssh. Run the launcher itself inside
``dfm-h0`` (``ip netns exec dfm-h0 ...``): host 0 is the head.

Needs root, ``ip`` (iproute2) and ``/usr/sbin/sshd``. ``up`` first tears
down what a previous run left, and tears down again if a step fails.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

PREFIX = "dfm-h"
BRIDGE_NS = "dfm-br"
SUBNET = "10.77.0"
DEFAULT_STATE = "/tmp/dfm-netns"
SSHD = "/usr/sbin/sshd"


class SetupError(RuntimeError):
    """A step of the set-up failed; the message names the command and its error."""


def _run(*argv, check=True):
    done = subprocess.run(argv, capture_output=True, text=True)
    if check and done.returncode:
        raise SetupError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    return done


def address(i):
    return f"{SUBNET}.{i + 2}"


def missing_requirements():
    """Why hosts cannot be set up here (empty list: they can)."""
    why = []
    if os.geteuid() != 0:
        why.append("not root")
    if not shutil.which("ip"):
        why.append("no `ip` (iproute2)")
    if not os.path.exists(SSHD):
        why.append(f"no {SSHD} (apt-get install -y openssh-server)")
    if not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        why.append("no ssh client / ssh-keygen (openssh-client)")
    return why


def namespaces():
    out = _run("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def down(state=DEFAULT_STATE):
    """Stop every sshd this module started and delete its namespaces. Safe to repeat."""
    if os.path.isdir(state):
        for name in sorted(os.listdir(state)):
            if name.endswith(".pid"):
                try:
                    pid = int(open(os.path.join(state, name)).read().split()[0])
                    os.kill(pid, 15)
                except (ValueError, OSError):
                    pass
    for ns in namespaces():
        if ns.startswith(PREFIX) or ns == BRIDGE_NS:
            # anything still running in the namespace (a leftover role) goes too
            pids = _run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
            _run("ip", "netns", "del", ns, check=False)
    shutil.rmtree(state, ignore_errors=True)


def _write_ssh_files(state):
    os.makedirs(os.path.join(state, "bin"), exist_ok=True)
    key = os.path.join(state, "id_ed25519")
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dfm-netns-test", "-f", key)
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(state, "host_key"))
    shutil.copy(key + ".pub", os.path.join(state, "authorized_keys"))
    with open(os.path.join(state, "ssh_config"), "w") as f:
        f.write(f"Host {SUBNET}.*\n  IdentityFile {key}\n  IdentitiesOnly yes\n"
                "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
                "  ConnectTimeout 5\n")
    wrapper = os.path.join(state, "bin", "ssh")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec /usr/bin/ssh -F {state}/ssh_config \"$@\"\n")
    os.chmod(wrapper, 0o755)


def _sshd_config(state, i):
    path = os.path.join(state, f"sshd_{i}.conf")
    with open(path, "w") as f:
        f.write(f"ListenAddress {address(i)}\nPort 22\nHostKey {state}/host_key\n"
                f"PidFile {state}/sshd_{i}.pid\nAuthorizedKeysFile {state}/authorized_keys\n"
                "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                "PrintMotd no\nAcceptEnv none\nX11Forwarding no\n")
    return path


def up(count, state=DEFAULT_STATE, wait=10.0):
    """Create ``count`` hosts; returns their addresses. Cleans up on failure."""
    why = missing_requirements()
    if why:
        raise SetupError("cannot set up namespaced hosts: " + "; ".join(why))
    down(state)
    try:
        os.makedirs(state)
        _write_ssh_files(state)
        os.makedirs("/run/sshd", exist_ok=True)   # sshd's privilege-separation directory
        _run("ip", "netns", "add", BRIDGE_NS)
        _run("ip", "-n", BRIDGE_NS, "link", "set", "lo", "up")
        _run("ip", "-n", BRIDGE_NS, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", BRIDGE_NS, "link", "set", "br0", "up")
        for i in range(count):
            ns = f"{PREFIX}{i}"
            _run("ip", "netns", "add", ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
            _run("ip", "link", "add", f"vh{i}", "netns", BRIDGE_NS, "type", "veth",
                 "peer", "name", "eth0", "netns", ns)
            _run("ip", "-n", BRIDGE_NS, "link", "set", f"vh{i}", "master", "br0")
            _run("ip", "-n", BRIDGE_NS, "link", "set", f"vh{i}", "up")
            _run("ip", "-n", ns, "addr", "add", f"{address(i)}/24", "dev", "eth0")
            _run("ip", "-n", ns, "link", "set", "eth0", "up")
            _run("ip", "netns", "exec", ns, SSHD, "-f", _sshd_config(state, i))
        hosts = [address(i) for i in range(count)]
        with open(os.path.join(state, "hosts"), "w") as f:
            f.write("".join(f"root@{h}\n" for h in hosts))
        _wait_for_ssh(state, hosts, wait)
        return hosts
    except BaseException:
        down(state)
        raise


def _wait_for_ssh(state, hosts, wait):
    """Every host answers `ssh root@HOST true` from the head namespace."""
    deadline = time.monotonic() + wait
    for host in hosts:
        while True:
            done = _run("ip", "netns", "exec", f"{PREFIX}0", f"{state}/bin/ssh", "-o", "BatchMode=yes",
                        f"root@{host}", "true", check=False)
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise SetupError(f"ssh root@{host} from {PREFIX}0 failed: {done.stderr.strip()}")
            time.sleep(0.2)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("count", nargs="?", type=int, default=2)
    p.add_argument("--state", default=DEFAULT_STATE, help="keys, configs, pid files, host file")
    args = p.parse_args(argv)
    try:
        if args.action == "up":
            hosts = up(args.count, args.state)
            print(f"hosts {' '.join(hosts)}; host file {args.state}/hosts; head namespace {PREFIX}0")
            print(f"run: ip netns exec {PREFIX}0 env PATH={args.state}/bin:$PATH deepfm-gluon launch "
                  f"--hosts {args.state}/hosts --scheduler-host {hosts[0]} ...")
        elif args.action == "down":
            down(args.state)
        else:
            print("\n".join(ns for ns in namespaces() if ns.startswith(PREFIX) or ns == BRIDGE_NS)
                  or "no hosts")
    except SetupError as err:
        print(f"netns_hosts: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
