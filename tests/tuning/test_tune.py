"""`tune`: studies in SQLite shared by processes, resumed after SIGKILL with
no trial lost or run twice, outputs that `train --config` reads, and bad
input refused in one line. Tiny budgets: trials of 1-2 epochs on small data."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

optuna = pytest.importorskip("optuna")

from deepfm_gluon.cli.main import main  # noqa: E402
from deepfm_gluon.experiments.config_file import read_config  # noqa: E402
from deepfm_gluon.experiments.study_storage import FINISHED, WORKER_ATTR  # noqa: E402
from deepfm_gluon.experiments import tuning  # noqa: E402
from deepfm_gluon.experiments.tuning import TuneSettings, run_worker  # noqa: E402
from deepfm_gluon.training.config import TrainConfig  # noqa: E402

FINISHED_NAMES = {state.name for state in FINISHED}


def tune_argv(data, out, *extra, trials=3, epochs=2, patience=2):
    space = os.path.join(os.path.dirname(str(out)), "space.json")
    with open(space, "w") as f:  # a smaller space: quick trials
        json.dump({"num_factors": {"choices": [2, 4, 8]}, "batch_size": 256}, f)
    return [sys.executable, "-m", "deepfm_gluon", "tune", "--model", "fm", "--data", data, "--trials", str(trials),
            "--epochs", str(epochs), "--early-stop", str(patience), "--space", space, "--out", str(out), *extra]


def load(storage, name="fm"):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.load_study(study_name=name, storage=storage)


def finished_trials(study):
    return [t for t in study.get_trials() if t.state in FINISHED]


def test_two_processes_share_one_study_and_run_no_trial_twice(small_data_dir, tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen(tune_argv(small_data_dir, tmp_path / f"out{i}", "--storage", storage, trials=4),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
             for i in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [out[-2000:] for out in outputs]
    study = load(storage)
    done = finished_trials(study)
    assert len(done) == 4 and len({t.number for t in done}) == 4
    assert len({json.dumps(t.params, sort_keys=True) for t in done}) == 4  # no point sampled twice
    pids = {t.user_attrs["worker"]["pid"] for t in done}
    assert pids <= {p.pid for p in procs}
    lines = [line for out in outputs for line in out.splitlines() if line.startswith("trial ")]
    assert sorted(int(line.split()[1]) for line in lines) == sorted(t.number for t in done)
    # the best configuration reproduces its trial: train --config on the same data, same validation AUC
    best = read_config(str(tmp_path / "out0" / "best.json"))
    assert best.model == "fm" and best.tuning["trial"] == study.best_trial.number
    run = tmp_path / "best"
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", "train", "--config", str(tmp_path / "out0" / "best.json"),
                           "--data", small_data_dir, "--no-progress", "--out", str(run)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    chosen = json.loads((run / "history.json").read_text())["chosen"]
    assert chosen["val_auc"] == pytest.approx(study.best_value, abs=1e-6)
    for name in ("trials.csv", "trials.md", "optimization_history.png", "param_importances.png", "report.html"):
        assert (tmp_path / "out0" / name).stat().st_size > 0
    header = (tmp_path / "out0" / "trials.csv").read_text().splitlines()[0]
    assert all(f"val {label}" in header for label in ("AUC", "logloss", "NE", "calibration", "ECE", "acc"))
    page = (tmp_path / "out0" / "report.html").read_text()  # the best trials side by side
    assert f"trial {study.best_trial.number}" in page and 'src="data:image/png;base64,' in page


def test_a_surplus_trial_is_given_back_with_its_note_and_the_worker_goes_on(tmp_path, monkeypatch):
    """The race two workers lose under load: this one starts a trial while another's already fills the
    budget. The trial is given back (FAIL, note "surplus") and the worker carries on; it used to
    write the note after the trial had finished, and UpdateFinishedTrialError ended the process."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(study_name="fm", storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize")
    elsewhere = study.ask()  # another machine's running trial: the whole budget of 1
    elsewhere.set_user_attr(WORKER_ATTR, {"host": "elsewhere", "pid": 1, "trial": elsewhere.number})
    study.enqueue_trial({})  # a queued trial lets this worker start one
    waits = []

    def elsewhere_finishes(seconds):  # the worker waits for the other's trial: it completes meanwhile
        waits.append(seconds)
        study.tell(elsewhere, 0.5)

    monkeypatch.setattr(tuning.time, "sleep", elsewhere_finishes)
    settings = TuneSettings("fm", trials=1, space={}, base=TrainConfig(epochs=1))
    assert run_worker(study, None, settings, log=None) == []  # no data read: the trial never trains
    assert len(waits) == 1
    surplus = study.get_trials()[-1]
    assert surplus.number == elsewhere.number + 1 and surplus.state.name == "FAIL"
    assert surplus.user_attrs["note"] == "surplus: the budget was already started"
    assert study.get_trials()[0].state.name == "COMPLETE"


def test_a_sigkilled_tune_resumes_and_completes_the_study(small_data_dir, tmp_path):
    out, env = tmp_path / "out", {**os.environ, "OMP_NUM_THREADS": "1"}
    storage = f"sqlite:///{out / 'study.db'}"
    argv = tune_argv(small_data_dir, out, trials=2, epochs=12, patience=12)  # 12-epoch trials: killable
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        if not (out / "study.db").exists():
            continue
        try:
            study = load(storage)
        except Exception:  # the study is not created yet
            continue
        trials = study.get_trials()  # one snapshot
        running = [t for t in trials if t.state.name == "RUNNING" and t.intermediate_values]
        if running:  # mid-trial: one epoch reported
            proc.send_signal(signal.SIGKILL)
            killed = running[0]
    proc.wait()
    assert killed is not None, "the run ended before it could be killed mid-trial"
    resumed = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    study = load(storage)
    done = finished_trials(study)
    assert len(done) == 2 and len({t.number for t in done}) == 2
    states = {t.number: t.state.name for t in study.get_trials()}
    assert states[killed.number] == "FAIL"
    retry = [t for t in done if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retry) == 1 and retry[0].params == killed.params  # its parameters ran again, once
    assert sum(state == "FAIL" for state in states.values()) == 1


def run_cli(capsys, *argv):
    """In this process (quicker than a subprocess): (exit code, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_bad_tuning_input_is_one_line(small_data_dir, tmp_path, capsys):
    space = tmp_path / "space.json"
    space.write_text('{"lr": {"low": 1e-4, "high": 1e-2, "log": true}, "mlp_width": {"choices": [8]}}')
    code, err = run_cli(capsys, "tune", "--model", "fm", "--data", small_data_dir, "--space", str(space),
                        "--out", str(tmp_path / "a"))
    assert code == 2 and "unknown parameter 'mlp_width' for model fm" in err and err.strip().count("\n") == 0
    code, err = run_cli(capsys, "tune", "--model", "fm", "--data", small_data_dir, "--storage",
                        "sqlite:////no/such/dir/x.db", "--out", str(tmp_path / "b"))
    assert code == 2 and "cannot open the database" in err and err.strip().count("\n") == 0
    storage = f"sqlite:///{tmp_path / 'one.db'}"
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(study_name="mine", storage=storage, direction="maximize")
    study.set_user_attr("deepfm_gluon", {"model": "deepfm", "data": "elsewhere"})
    argv = ["tune", "--model", "fm", "--data", small_data_dir, "--storage", storage, "--study", "mine",
            "--trials", "1", "--epochs", "1", "--out", str(tmp_path / "c")]
    code, err = run_cli(capsys, *argv)
    assert code == 2 and "holds trials of model 'deepfm', not 'fm'; pass --continue-study" in err
    assert err.strip().count("\n") == 0
    assert run_cli(capsys, *argv, "--continue-study")[0] == 0
