"""`launch --hosts` for real: scheduler, server and workers on namespaced hosts.

Three network namespaces with sshd act as hosts (tests/distributed/netns_hosts.py);
the launcher runs in the first, starts the roles over ssh, and a sparse
parameter-server job (two servers on two hosts, two workers) must end with a
saved model and identical parameters on both workers. Needs root, `ip`
and sshd (Debian: apt-get install -y openssh-server); skipped otherwise, with
the reason.
"""
import os
import re
import subprocess
import sys

import pytest

from . import netns_hosts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MISSING = netns_hosts.missing_requirements()
pytestmark = pytest.mark.skipif(bool(MISSING), reason="namespaced hosts need: " + "; ".join(MISSING))


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    state = str(tmp_path_factory.mktemp("netns"))
    try:
        addresses = netns_hosts.up(3, state)
    except netns_hosts.SetupError as err:   # e.g. a sandbox without CAP_NET_ADMIN
        pytest.skip(f"cannot create namespaced hosts here: {err}")
    yield state, addresses
    netns_hosts.down(state)


def test_sparse_job_across_namespaced_hosts_ends_with_a_model(hosts, tmp_path):
    state, addresses = hosts
    out = tmp_path / "model"
    env = {**os.environ, "PATH": f"{state}/bin:{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    cmd = ["ip", "netns", "exec", f"{netns_hosts.PREFIX}0", sys.executable, "-m", "deepfm_gluon",
           "launch", "--workers", "2", "--servers", "2", "--hosts", f"{state}/hosts",
           "--scheduler-host", addresses[0], "--remote-python", sys.executable, "--remote-dir", REPO,
           "--timeout", "240", "--", "train", "--model", "deepfm", "--epochs", "1", "--out", str(out),
           "--no-progress", "--sparse"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    # roles really ran on the other hosts, reached over ssh
    assert re.search(rf"started worker 1 \(pid \d+\) on {re.escape(addresses[1])}", log), log
    assert re.search(rf"started server 1 \(pid \d+\) on {re.escape(addresses[1])}", log), log
    assert (out / "model.params").stat().st_size > 0
    digests = set(re.findall(r"parameters sha256 ([0-9a-f]{64})", log))
    assert len(digests) == 1, log
    # nothing of the job is left on the hosts: only their sshd
    for i in range(len(addresses)):
        pids = subprocess.run(["ip", "netns", "pids", f"{netns_hosts.PREFIX}{i}"],
                              capture_output=True, text=True).stdout.split()
        names = {open(f"/proc/{p}/comm").read().strip() for p in pids if os.path.exists(f"/proc/{p}")}
        assert names <= {"sshd"}, (i, names)
