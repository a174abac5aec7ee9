"""`deepfm-gluon bench`: the book's pipeline, ours and the PyTorch peer, one table."""
import json

from ..atomic import atomic_write_json
from ..bench import BenchConfig, format_report, run_suite
from .parser import BENCH_SIZES

SIZE_FLAGS = tuple(name.replace("-", "_") for name, _ in BENCH_SIZES)


def config_from_args(args):
    given = {k: getattr(args, k) for k in SIZE_FLAGS if getattr(args, k) is not None}
    given.update(omp_wait_policy=args.omp_wait_policy, torch_python=args.torch_python,
                 torch_peer=args.torch_peer, ablations=args.ablations, data_dir=args.data_dir)
    return BenchConfig.quick(**given) if args.quick else BenchConfig(**given)


def run(args):
    config = config_from_args(args)
    report = run_suite(config, log=(lambda msg: None) if args.json else print)
    if args.out:
        atomic_write_json(args.out, report)
    print(json.dumps(report, indent=1) if args.json else "\n" + format_report(report))
    return 0
