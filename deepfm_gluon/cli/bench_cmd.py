"""`deepfm-gluon bench`: the book's pipeline, ours and the PyTorch peer, one table."""
import json
import os

from ..atomic import atomic_write_json
from ..bench import BenchConfig, format_report, run_suite
from .parser import BENCH_SIZES

SIZE_FLAGS = tuple(name.replace("-", "_") for name, _ in BENCH_SIZES)


def config_from_args(args):
    given = {k: getattr(args, k) for k in SIZE_FLAGS if getattr(args, k) is not None}
    given.update(omp_wait_policy=args.omp_wait_policy, torch_python=args.torch_python,
                 torch_peer=args.torch_peer, ablations=args.ablations, data_dir=args.data_dir)
    return BenchConfig.quick(**given) if args.quick else BenchConfig(**given)


def run_zoo_bench(args):
    """`bench --zoo`: every model against its pytorch-fm twin (bench/zoo.py)."""
    # start-up: the zoo bench loads the model registry (MXNet) only when asked for
    from ..bench.zoo import ZooConfig, format_zoo_report, run_zoo
    models = tuple(m.strip() for m in (args.models or "").split(",") if m.strip())
    sizes = tuple(s.strip() for s in args.sizes.split(",") if s.strip())
    zoo = ZooConfig(peer_python=args.peer_python, twin_script=args.twin_script, models=models,
                    bars_batches=args.bars_batches, book_epochs=args.book_epochs, sizes=sizes,
                    data_dir=args.data_dir, fuxictr_zoo=args.fuxictr_zoo,
                    fuxictr_script=os.path.join(os.path.dirname(args.twin_script), "fuxictr_deepfm.py"),
                    **({"threads": args.threads} if args.threads else {}))
    report = run_zoo(zoo, log=(lambda msg: None) if args.json else print)
    if args.out:
        atomic_write_json(args.out, report)
    print(json.dumps(report, indent=1) if args.json else "\n" + format_zoo_report(report))
    return 0


def run(args):
    if args.zoo:
        return run_zoo_bench(args)
    config = config_from_args(args)
    report = run_suite(config, log=(lambda msg: None) if args.json else print)
    if args.out:
        atomic_write_json(args.out, report)
    print(json.dumps(report, indent=1) if args.json else "\n" + format_report(report))
    return 0
