"""`deepfm-gluon tune`: one model's study, run by this process and --jobs - 1
children (or by other `tune` processes on the same --storage), then its
outputs: best.json, trials.csv/.md, plots."""
import dataclasses
import os
import subprocess
import sys
import time

from ..data.sources.registry import resolve
from ..errors import DeepFMError
from ..models.registry import get_spec
from .common import load_data, preset_model_overrides, resolve_preset, train_config

DEFAULT_PATIENCE = 2  # a preset without early stopping (book) still stops every trial on validation


def import_tuning():
    """The tuning modules; without Optuna, one line saying how to get it."""
    try:
        from ..experiments import study_storage, tuning, tuning_report  # optional extra: imported here, start-up stays fast
    except ImportError as err:
        raise DeepFMError(f"tuning needs Optuna ({err}): pip install 'deepfm-gluon[tune]'") from None
    return study_storage, tuning, tuning_report


def tune_settings(args, model, train_lines, trials, timeout=None):
    """The TuneSettings the flags describe for ``model``: the preset's values
    (the data source's default: criteo: and avazu: data -> bars) under the model's search space (or --space), with
    early stopping always on and batch sizes that leave too few steps per
    epoch on ``train_lines`` left out of the space."""
    from ..experiments.search_space import fit_batch_choices, read_space_file  # with tuning: start-up
    from ..experiments.tuning import TuneSettings  # optional extra: imported here to keep start-up fast
    spec = get_spec(model)
    preset = resolve_preset(args)
    space = read_space_file(spec, args.space) if getattr(args, "space", None) else dict(spec.search_space)
    space = fit_batch_choices(space, train_lines)
    base = train_config(args)
    base = dataclasses.replace(base, early_stop=base.early_stop or DEFAULT_PATIENCE, progress=False,
                               min_steps_per_epoch=0 if "batch_size" in space else base.min_steps_per_epoch)
    fixed = {name: value for name, value in preset_model_overrides(preset, model).items()
             if spec.hyperparameter(name) is not None}
    return TuneSettings(model=spec.name, trials=trials, space=space, base=base, model_overrides=fixed,
                        seed=args.seed, timeout=timeout)


def start_children(args, count, storage_url, study_name):
    """``count`` more `tune --worker` processes on the same study; the cores
    are split between them and this process (OMP_NUM_THREADS)."""
    if count <= 0:
        return []
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // (count + 1))))
    argv = [sys.executable, "-m", "deepfm_gluon", *args.argv, "--worker", "--jobs", "1",
            "--storage", storage_url, "--study", study_name]
    return [subprocess.Popen(argv, env=env) for _ in range(count)]


def wait_for(children):
    failed = [child.wait() for child in children]
    bad = [code for code in failed if code != 0]
    if bad:
        raise DeepFMError(f"{len(bad)} of {len(children)} --jobs workers failed (exit codes {bad}); "
                          "run tune again to resume the study")


def open_tuning_study(args, settings, split, study_storage, tuning):
    """(study, storage URL) of --storage/--study (defaults: sqlite OUT/study.db, the model's name)."""
    os.makedirs(args.out, exist_ok=True)
    url = args.storage or f"sqlite:///{os.path.abspath(os.path.join(args.out, 'study.db'))}"
    name = args.study or settings.model
    data = args.data
    source, path = resolve(data)
    if source.takes_path:  # the same file under any spelling is one study
        data = f"{source.name}:{os.path.realpath(path)}"
    elif os.path.isdir(data):
        data = os.path.realpath(data)
    storage = study_storage.open_storage(url)
    study = study_storage.open_study(storage, name, tuning.identity(settings, data, split),
                                     direction=settings.direction, sampler=tuning.make_sampler(settings.seed),
                                     pruner=tuning.make_pruner(), continue_study=args.continue_study)
    return study, url


def run(args):
    study_storage, tuning, tuning_report = import_tuning()
    get_spec(args.model)  # an unknown model: one line before any data is read
    split = load_data(args, validation=True)  # the final split, printed once
    settings = tune_settings(args, args.model, len(split.train.labels), args.trials, args.timeout)
    study, url = open_tuning_study(args, settings, split, study_storage, tuning)
    print(f"study {study.study_name!r} in {study_storage.safe_url(url)}: {study_storage.progress(study)[0]} of "
          f"{settings.trials} trials finished; {args.jobs} worker(s) here")
    start = time.perf_counter()
    children = start_children(args, args.jobs - 1, url, study.study_name) if not args.worker else []
    try:
        tuning.run_worker(study, split, settings, log=print)
    finally:
        if children:
            wait_for(children)
    if args.worker:
        return 0
    config, notes = tuning_report.write_outputs(study, settings, args.out, study_storage.safe_url(url))
    finished = study_storage.progress(study)[0]
    print(f"{finished} trials finished in {time.perf_counter() - start:.1f}s (this run)")
    for note in notes:
        print("note: " + note)
    if config is None:
        print("no trial completed: no best.json")
        return 0
    value = config.tuning[f"validation_{settings.base.monitor}"]
    print(f"best: trial {config.tuning['trial']}, validation {settings.base.monitor} {value:.4f}: "
          + ", ".join(f"{k}={v}" for k, v in {**config.hyperparameters, **config.training}.items()))
    print(f"wrote {os.path.join(args.out, tuning_report.BEST_FILE)} (train --config), trials.csv, trials.md, "
          f"{tuning_report.HISTORY_PNG}, {tuning_report.IMPORTANCE_PNG} in {args.out}")
    return 0
