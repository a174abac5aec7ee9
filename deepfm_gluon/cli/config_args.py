"""`train --config FILE`: a configuration file's values become the flags
that were not typed (typed flags override the file)."""
from ..errors import DeepFMError
from ..experiments.config_file import CONFIG_TRAINING_KEYS, read_config
from ..models.registry import get_spec
from .common import hyperparameter_attribute


def typed_flags(args, names):
    """The ``names`` (flag attributes) typed on the command line, argparse's
    unique-prefix abbreviations included: name -> parsed value."""
    flags = {"--" + name.replace("_", "-"): name for name in names}
    typed = {}
    for token in getattr(args, "argv", []):
        if not token.startswith("--"):
            continue
        word = token.split("=", 1)[0]
        matches = [flag for flag in flags if flag == word] or [flag for flag in flags if flag.startswith(word)]
        if len(matches) == 1:
            typed[flags[matches[0]]] = getattr(args, flags[matches[0]])
    return typed


def apply_config_file(args):
    """Read ``args.config`` and set every value it holds whose flag was not
    typed: model hyperparameters (through their flags, or ``args.model_args``
    for those without one) and CONFIG_TRAINING_KEYS. A typed --model that
    differs from the file's is refused. Returns the RunConfig."""
    config = read_config(args.config)
    spec = get_spec(config.model)
    attributes = {name: name for name in CONFIG_TRAINING_KEYS}
    attributes.update({name: hyperparameter_attribute(spec, name) for name in config.hyperparameters})
    typed = typed_flags(args, ["model", *filter(None, attributes.values())])
    if "model" in typed and typed["model"] != config.model:
        raise DeepFMError(f"--model {typed['model']}: --config {args.config} configures model {config.model}")
    args.model = config.model
    for name, value in {**config.hyperparameters, **config.training}.items():
        attribute = attributes[name]
        if attribute is None:
            args.model_args = {**(getattr(args, "model_args", None) or {}), name: value}
        elif attribute not in typed:
            setattr(args, attribute, value)
    return config
