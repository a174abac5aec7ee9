"""`deepfm-gluon bench`: the book's pipeline, ours and the PyTorch peer, one table."""
import json
import os

from .common import positive_int


def add_parser(subparsers):
    p = subparsers.add_parser("bench", help="benchmark against the book's pipeline and the PyTorch peer")
    p.add_argument("--quick", action="store_true",
                   help="CI-size smoke run (tiny data, one repeat); numbers mean little")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--out", default=None, help="also write the JSON report to this file")
    for name, help_text in (("train-rows", "training lines (default 15000, the book's size)"),
                            ("test-rows", "test lines (default 3000)"),
                            ("epochs", "training epochs per measurement (default 3)"),
                            ("batch-size", "training batch (default 2048)"),
                            ("repeats", "interleaved repeats; medians are reported (default 3)"),
                            ("predict-rows", "rows scored per prediction pass (default 262144)"),
                            ("predict-batch", "prediction batch (default 8192)"),
                            ("encode-rows", "lines our encoder reads (default 1000000)"),
                            ("d2l-encode-rows", "lines d2l.CTRDataset encodes (default 100000; "
                                                "it is too slow for a million)"),
                            ("threads", "OMP_NUM_THREADS for every pipeline (default: CPU count)")):
        p.add_argument(f"--{name}", type=positive_int, default=None, help=help_text)
    p.add_argument("--omp-wait-policy", choices=["passive", "active", "default"], default="passive",
                   help="OMP_WAIT_POLICY for every pipeline (default passive: spinning OpenMP "
                        "threads collapse when the cores are shared)")
    p.add_argument("--torch-python", default=None,
                   help="a Python that can import torch; runs the PyTorch peer (optional)")
    p.add_argument("--torch-peer", default=os.path.join("..", "shared", "peers", "torch_deepfm.py"),
                   help="path of torch_deepfm.py (default ../shared/peers/torch_deepfm.py)")
    p.add_argument("--ablations", action="store_true",
                   help="also measure thread settings and prediction batch sizes")
    p.add_argument("--data-dir", default=None, help="cache folder for the generated data")
    p.set_defaults(run=run)


def config_from_args(args):
    from ..bench import BenchConfig
    given = {k: getattr(args, k) for k in ("train_rows", "test_rows", "epochs", "batch_size",
                                           "repeats", "predict_rows", "predict_batch", "encode_rows",
                                           "d2l_encode_rows", "threads")
             if getattr(args, k) is not None}
    given.update(omp_wait_policy=args.omp_wait_policy, torch_python=args.torch_python,
                 torch_peer=args.torch_peer, ablations=args.ablations, data_dir=args.data_dir)
    return BenchConfig.quick(**given) if args.quick else BenchConfig(**given)


def run(args):
    from ..atomic import atomic_write_json
    from ..bench import format_report, run_suite
    config = config_from_args(args)
    report = run_suite(config, log=(lambda msg: None) if args.json else print)
    if args.out:
        atomic_write_json(args.out, report)
    print(json.dumps(report, indent=1) if args.json else "\n" + format_report(report))
    return 0
