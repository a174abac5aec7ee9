"""The job plan and the ssh command lines, without starting anything."""
import shlex
import socket

import pytest

from deepfm_gluon.distributed.launcher import (build_job, command_line, free_port,
                                               parse_host_file, ssh_command)
from deepfm_gluon.errors import DeepFMError

from .conftest import run_cli

TRAIN = ["train", "--model", "fm", "--epochs", "2"]


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_local_job_roles_and_environment():
    job = build_job(2, 1, TRAIN, python="/py")
    kinds = [r.name for r in job.roles]
    assert kinds == ["scheduler", "server 0", "worker 0", "worker 1"]
    for role in job.roles:
        assert role.host is None
        assert role.env["DMLC_PS_ROOT_URI"] == "127.0.0.1"
        assert role.env["DMLC_NODE_HOST"] == "127.0.0.1"
        assert role.env["DMLC_PS_ROOT_PORT"] == str(job.root_port)
        assert role.env["DMLC_NUM_WORKER"] == "2" and role.env["DMLC_NUM_SERVER"] == "1"
        assert role.env["DMLC_ROLE"] == role.kind
    assert job.roles[0].argv == ["/py", "-m", "deepfm_gluon.distributed.ps_server"]  # never MXNet's pickling controller
    assert job.roles[1].argv == ["/py", "-m", "deepfm_gluon.distributed.ps_server"]
    assert job.roles[2].argv == ["/py", "-m", "deepfm_gluon", *TRAIN, "--kvstore", "dist_sync"]


def test_host_file_parsing(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("# cluster\nnode1\n\nalice@node2:2222  # ssh on 2222\n10.0.0.7\n")
    hosts = parse_host_file(str(path))
    assert [(h.target, h.address, h.ssh_port) for h in hosts] == [
        ("node1", "node1", None), ("alice@node2", "node2", 2222), ("10.0.0.7", "10.0.0.7", None)]
    path.write_text("node1:ssh\n")
    with pytest.raises(DeepFMError, match="hosts:1"):
        parse_host_file(str(path))
    path.write_text("# nothing\n")
    with pytest.raises(DeepFMError, match="no host"):
        parse_host_file(str(path))


def test_ssh_commands_place_roles_round_robin(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("node1\nalice@node2:2222\n")
    job = build_job(3, 2, TRAIN + ["--data", "/data/my ctr"], hosts=parse_host_file(str(path)),
                    scheduler_host="head.example", port=9091, remote_python="/opt/py/bin/python",
                    workdir="/srv/deepfm", extra_env={"OMP_NUM_THREADS": "4"})
    assert job.roles[0].host is None  # the scheduler runs on the launching machine
    placed = {r.name: r.host.address for r in job.roles[1:]}
    assert placed == {"server 0": "node1", "server 1": "node2", "worker 0": "node1",
                      "worker 1": "node2", "worker 2": "node1"}
    argv = ssh_command(job.roles[-2], job.workdir)  # worker 1 on alice@node2:2222
    assert argv[:2] == ["ssh", "-tt"] and "BatchMode=yes" in argv
    assert argv[argv.index("-p") + 1] == "2222" and argv[-2] == "alice@node2"
    remote = shlex.split(argv[-1])
    assert remote[:4] == ["cd", "/srv/deepfm", "&&", "exec"]
    env = dict(item.split("=", 1) for item in remote[5:] if "=" in item and not item.startswith("-"))
    assert env["DMLC_ROLE"] == "worker" and env["DMLC_NODE_HOST"] == "node2"
    assert env["DMLC_PS_ROOT_URI"] == "head.example" and env["DMLC_PS_ROOT_PORT"] == "9091"
    assert env["DMLC_NUM_WORKER"] == "3" and env["DMLC_NUM_SERVER"] == "2"
    assert env["OMP_NUM_THREADS"] == "4"
    tail = remote[remote.index("/opt/py/bin/python"):]
    assert tail == ["/opt/py/bin/python", "-m", "deepfm_gluon", *TRAIN, "--data", "/data/my ctr",
                    "--kvstore", "dist_sync"]
    assert command_line(job.roles[0], job).startswith("env ")


def test_cli_dry_run_prints_every_command(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("node1\nnode2\n")
    result = run_cli(["launch", "--workers", "2", "--servers", "1", "--hosts", str(path),
                      "--scheduler-host", "head", "--dry-run", "--", *TRAIN], timeout=60)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert [l for l in lines if l.startswith("#")] == ["# scheduler", "# server 0", "# worker 0",
                                                      "# worker 1"]
    assert sum(l.startswith("ssh -tt") for l in lines) == 3
    assert "--kvstore dist_sync" in lines[-1]


@pytest.mark.parametrize("args, message", [
    (["--workers", "3", "--", *TRAIN], "multiple of 3"),
    (["--workers", "2", "--", "compare"], "-- train"),
    (["--workers", "2", "--", *TRAIN, "--kvstore", "local"], "launch --kvstore"),
    (["--workers", "2", "--hosts", "/nonexistent/hosts", "--", *TRAIN], "cannot read"),
    (["--workers", "2", "--env", "1=x", "--", *TRAIN], "NAME=VALUE"),
])
def test_cli_rejects_bad_jobs_before_starting(args, message):
    result = run_cli(["launch", *args], timeout=60)
    assert result.returncode == 2
    assert message in result.stdout and "Traceback" not in result.stdout
    assert "started" not in result.stdout


def test_train_with_dist_kvstore_names_missing_environment(dist_data_dir, tmp_path):
    result = run_cli([*TRAIN, "--kvstore", "dist_sync", "--data", dist_data_dir, "--out",
                      str(tmp_path / "m"), "--no-progress"], timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stdout
    assert "deepfm-gluon launch" in result.stdout and "DMLC_ROLE" in result.stdout


def test_a_role_that_cannot_start_is_an_error():
    from deepfm_gluon.distributed.launcher import run_job
    job = build_job(1, 1, TRAIN, python="/nonexistent/python")
    with pytest.raises(DeepFMError, match="cannot start scheduler"):
        run_job(job, log=lambda line: None, timeout=10)


def test_an_ended_ssh_session_is_named_as_such():
    from deepfm_gluon.distributed.launcher import Host, _describe_exit
    assert "the ssh session to 10.0.0.3 ended" in _describe_exit(255, Host("root@10.0.0.3", "10.0.0.3"))
    assert _describe_exit(255) == "exited with code 255"
