"""`compare --tune N` and `compare --config FILE...`: models at tuned
configurations, over seeds, both protocols, paired tests (experiments/tuned_compare.py)."""
import os

from ..errors import DeepFMError
from ..experiments.config_file import read_config
from ..experiments.tuned_compare import compare_configs, markdown
from .common import add_validation, load_data
from .tune_cmd import import_tuning, open_tuning_study, tune_settings

def configs_from_files(paths):
    configs = {}
    for path in paths:
        config = read_config(path)
        if config.model in configs:
            raise DeepFMError(f"--config {path}: a second configuration of model {config.model}")
        configs[config.model] = config
    return configs


def tune_each(args, models, split):
    """Tune every model with the same budget (--tune trials) in OUT/tuning/study.db,
    one study per model (rerunning resumes them); returns model -> best RunConfig."""
    study_storage, tuning, tuning_report = import_tuning()
    configs = {}
    for model in models:
        settings = tune_settings(args, model, len(split.train.labels), args.tune)
        folder = os.path.join(args.out, "tuning", model)
        study_args = type(args)(**{**vars(args), "out": folder, "storage": args.storage or
                                   f"sqlite:///{os.path.abspath(os.path.join(args.out, 'tuning', 'study.db'))}",
                                   "study": model, "continue_study": False})
        study, url = open_tuning_study(study_args, settings, split, study_storage, tuning)
        print(f"tuning {model}: {args.tune} trials, study {model!r} in {study_storage.safe_url(url)}")
        tuning.run_worker(study, split, settings, log=print)
        config, _ = tuning_report.write_outputs(study, settings, folder, study_storage.safe_url(url))
        if config is None:
            raise DeepFMError(f"tuning {model}: no trial completed (all pruned or failed); see {folder}/trials.md")
        configs[model] = config
    return configs


def run(args, models):
    """The tuned comparison the flags ask for (``models``: the --models list, tuned
    unless --config names the configurations); prints the table, writes OUT/compare_tuned.*."""
    split = load_data(args, validation=False)
    validated = add_validation(split, args)
    if getattr(args, "config", None):  # compare's --config (reproduce has none)
        configs = configs_from_files(args.config)
    else:
        configs = tune_each(args, models, validated)
    seeds = list(range(args.seed, args.seed + args.seeds))
    baseline = next(iter(configs))
    rows, _ = compare_configs(split, validated, configs, seeds, out_dir=args.out, log=print,
                              budget=args.tune)
    print(f"\n{', '.join(configs)} at their {'tuned ' if args.tune else ''}configurations on {split.name}, "
          f"seeds {seeds[0]}..{seeds[-1]} (paired against {baseline}):")
    print(markdown(rows, baseline))
    print(f"wrote {os.path.join(args.out, 'compare_tuned.md')} and compare_tuned.json")
    return 0
