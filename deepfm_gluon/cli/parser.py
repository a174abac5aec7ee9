"""Every subcommand's flags, as argparse parsers, and nothing else.

Building the parser imports no command implementation, no MXNet and no
numpy: `deepfm-gluon --help` and `deepfm-gluon COMMAND --help` answer at
once. Each subcommand names its handler as 'module:function' in cli/;
cli/main.py imports it only to run it.
"""
import argparse
import os

from ..limits import SERVE_SETTINGS, serve_setting_problem
from ..version import __version__

# The dedicated model flags (flag -> argparse attribute): a model's Hyperparameter.flag
# names one of them; any hyperparameter is also set by --model-arg NAME=VALUE.
MODEL_FLAGS = {"--num-factors": "num_factors", "--mlp-dims": "mlp_dims", "--dropout": "dropout"}
MODELS_HINT = "a registered model (`deepfm-gluon models` lists them; plug-ins: $DEEPFM_GLUON_MODELS)"

# training.config.KVSTORES (not imported: training/ loads MXNet); a test keeps the two equal
KVSTORE_CHOICES = ["device", "local", "dist_sync", "dist_async"]


def number_in(convert, ok, expected):
    """An argparse type: ``convert(text)`` (int or float) for which ``ok(value)``
    holds, else the one-line error "expected ``expected``, got 'text'"."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


positive_int = number_in(int, lambda v: v >= 1, "a positive integer")
positive_float = number_in(float, lambda v: v > 0, "a positive number")
port_number = number_in(int, lambda v: 1 <= v <= 65535, "a TCP port 1..65535")
non_negative_float = number_in(float, lambda v: v >= 0, "a number >= 0")
share = number_in(float, lambda v: 0 < v < 1, "a share in (0, 1)")


def serve_setting(name):
    """An argparse type for the ``serve`` setting ``name`` (limits.SERVE_SETTINGS):
    its range, in one line, for anything outside it (inf, nan, 1e308, -1)."""
    kind = SERVE_SETTINGS[name][0]

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        problem = serve_setting_problem(name, value)
        if problem:
            raise argparse.ArgumentTypeError(f"{problem}, got {text!r}")
        return value
    return parse


def add_serve_setting(parser, name, help_text):
    """``--NAME`` (underscores as dashes) with its type, range and default from SERVE_SETTINGS."""
    default = SERVE_SETTINGS[name][3]
    parser.add_argument("--" + name.replace("_", "-"), type=serve_setting(name), default=default,
                        help=f"{help_text} (default {default})")


def one_byte(text):
    """An argparse type: one separator byte (``\\t`` for TAB), never a newline."""
    text = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(text, text)
    if len(text.encode()) != 1 or text in "\r\n":
        raise argparse.ArgumentTypeError(f"expected one separator character, got {text!r}")
    return text


def add_data_args(parser):
    parser.add_argument("--data", default="synthetic",
                        help="a data source, NAME or NAME:ARGS: 'synthetic' (offline default), 'ctr' "
                             "(the book's data; downloaded if absent), a directory with train.csv and "
                             "test.csv, criteo:PATH, avazu:PATH or csv:PATH (a file; last 10%% of "
                             "lines held out; see docs/criteo.md)")
    parser.add_argument("--hash-buckets", type=positive_int, default=None,
                        help="table files (criteo:, avazu:, csv:) only: hash each field into this "
                             "many rows instead of the book's min-count vocabulary")
    schema = parser.add_argument_group("table files: the csv:PATH schema (--sep, --header: any table file; "
                                       "docs/criteo.md)")
    schema.add_argument("--label", default=None, metavar="COL", help="the 0/1 label column")
    schema.add_argument("--categorical", default=None, metavar="COLS",
                        help="categorical columns, comma-separated (names; 1-based numbers without a header)")
    schema.add_argument("--numeric", default=None, metavar="COLS",
                        help="numeric columns, bucketed by floor(log(x)^2) as Criteo's integers")
    schema.add_argument("--sep", default=None, type=one_byte,
                        help="column separator (default: TAB if line 1 has one, else comma)")
    header = schema.add_mutually_exclusive_group()
    header.add_argument("--header", dest="header", action="store_const", const=True, default=None,
                        help="line 1 names the columns (default: when it names the schema's columns)")
    header.add_argument("--no-header", dest="header", action="store_const", const=False,
                        help="line 1 is data")
    parser.add_argument("--data-dir", default=None,
                        help="cache folder for data sets (default: $DEEPFM_GLUON_DATA, else ../data)")
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first malformed line instead of counting and skipping it")




def add_protocol_args(parser):
    """Presets, validation split and early stopping (docs/reproduction.md)."""
    parser.add_argument("--preset", choices=["book", "bars"], default=None,
                        help="hyperparameters: 'book' (the chapter's; the default) or 'bars' (BARS "
                             "Criteo_x1: embedding 10, MLP 400,400,400, dropout 0.1, embedding L2 "
                             "1e-5, Adam 1e-3, batch 4096, early stopping patience 2 on validation "
                             "AUC; the default with criteo: and avazu: data); flags override its values")
    parser.add_argument("--early-stop", type=positive_int, default=None, metavar="PATIENCE",
                        help="stop after PATIENCE epochs without a better validation metric and "
                             "restore the best epoch's weights (cuts a validation split)")
    parser.add_argument("--monitor", default=None,  # checked against training.config.MONITORS
                        help="validation metric early stopping watches: auc (default) or logloss")
    parser.add_argument("--validation", type=share, default=None, metavar="SHARE",
                        help="cut a validation split: SHARE of the training lines (d2l data, "
                             "seeded by --seed) or of all lines before the test tail (table files); "
                             "default 0.1 when --early-stop is on")
    parser.add_argument("--split", choices=["time", "random"], default="time",
                        help="table files only: validation = the lines before the test tail (time, "
                             "default) or BARS's random 7:2:1 split (random, seed --split-seed)")
    parser.add_argument("--split-seed", type=int, default=None,
                        help="seed of --split random (default 2018, as BARS)")
    parser.add_argument("--embedding-l2", type=non_negative_float, default=None,
                        help="L2 penalty on the embedding rows a batch touches (default 0)")
    parser.add_argument("--dense-l2", type=non_negative_float, default=None,
                        help="L2 penalty on every other weight (MLP, linear layer, biases), as "
                             "the optimizer's weight decay (default 0)")
    parser.add_argument("--num-factors", type=positive_int, default=None,
                        help="embedding size, for models that have one (default: the model's; the "
                             "book's DeepFM 10, FM 20)")
    parser.add_argument("--mlp-dims", default=None,
                        help="MLP hidden sizes, comma-separated, for models with an MLP (default: the "
                             "model's; DeepFM 30,20,10)")
    parser.add_argument("--dropout", type=non_negative_float, default=None,
                        help="MLP dropout, for models with one (default: the model's; DeepFM 0.1)")


def add_train_args(parser, epochs=None):
    parser.add_argument("--epochs", type=positive_int, default=epochs,
                        help="epochs (at most, with --early-stop); default: the preset's (book 30)")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="default: the preset's (book 2048)")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="learning rate (default: the book's, DeepFM 0.01, FM 0.02)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--devices", default=None,
                        help="auto (default: all GPUs, else CPU), cpu, cpu:N, gpu, or gpu(0),gpu(1)")
    parser.add_argument("--book-compat", action="store_true",
                        help="reproduce the book exactly: double-sigmoid loss and d2l's accuracy")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--optimizer", choices=["adam", "sgd", "adagrad", "ftrl"], default="adam",
                        help="the optimizer (default: the book's Adam); with --sparse the tables' "
                             "updates are lazy (Adam, SGD) and run on the servers of a kvstore job")
    updates = parser.add_mutually_exclusive_group()
    updates.add_argument("--sparse", action="store_const", const=True, default=None,
                         help="row-sparse embedding updates (lazy Adam): step time independent of "
                              "the vocabulary size; chosen by default when the embedding table "
                              "has more than 1,000,000 rows (docs/criteo.md)")
    updates.add_argument("--no-sparse", dest="sparse", action="store_const", const=False,
                         help="dense updates of the embedding tables, whatever their size")
    add_protocol_args(parser)


def add_train(subparsers):
    p = subparsers.add_parser("train", help="train a model (DeepFM by default) and save it")
    p.add_argument("--model", default="deepfm", metavar="NAME", help=MODELS_HINT + "; default deepfm")
    p.add_argument("--model-arg", action="append", default=None, metavar="NAME=VALUE",
                   help="set any hyperparameter the model declares (repeatable), e.g. "
                        "--model-arg num_factors=16; `deepfm-gluon models` lists them with ranges")
    p.add_argument("--config", metavar="FILE", default=None,
                   help="a JSON configuration (model, hyperparameters, training settings), e.g. the "
                        "best.json `tune` writes; flags typed beside it override its values")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--out", default=os.path.join("runs", "model"), help="output directory")
    p.add_argument("--resume", metavar="DIR", default=None,
                   help="continue the run whose --out was DIR from its latest checkpoint "
                        "(its saved arguments are used; --epochs N extends it to N epochs)")
    p.add_argument("--calibrate", choices=["platt", "isotonic"], default=None,
                   help="fit a calibration of the probabilities on the validation split (cut with "
                        "--validation, default 0.1) and store it with the model; evaluate, predict, export "
                        "(platt only for onnx) and serve apply it (docs/metrics.md)")
    p.add_argument("--no-report", action="store_true",
                   help="do not write OUT/report.html and OUT/explain/ (reliability, importance, interactions)")
    p.add_argument("--no-checkpoints", action="store_true",
                   help="do not write OUT/checkpoints after every epoch")
    p.add_argument("--overwrite", action="store_true",
                   help="--out holds an earlier run: delete that run's files first (else refused)")
    p.add_argument("--kvstore", default="device", choices=KVSTORE_CHOICES,
                   help="gradient aggregation across devices (device, local) or machines (dist_*: "
                        "set by `deepfm-gluon launch`, see docs/distributed.md)")
    p.set_defaults(handler="train_cmd:run")


def add_serve(subparsers):
    p = subparsers.add_parser("evaluate", help="AUC, logloss and accuracy of a saved model on a file")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--data", required=True, help="a file in the training format (label first); for "
                   "a model of a table file, raw lines of its format (PATH or NAME:PATH, e.g. criteo:PATH)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--strict", action="store_true")
    p.set_defaults(handler="serve_cmd:run_evaluate")
    p = subparsers.add_parser("predict", help="one click probability per input line")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--input", required=True,
                   help="lines with or without the label column; - for stdin (pipes and FIFOs work)")
    p.add_argument("--output", required=True,
                   help="one probability per input line (nan for a malformed one); - for stdout")
    p.add_argument("--force", action="store_true", help="replace an existing --output file")
    p.add_argument("--strict", action="store_true",
                   help="stop at the first malformed line (file:line) instead of writing nan")
    p.add_argument("--engine", choices=["mxnet", "onnxruntime", "folded"], default="mxnet",
                   help="onnxruntime needs the serve extra (docs/serving.md); folded: FM and DeepFM "
                        "from one folded table, faster, equal up to float32 rounding (docs/benchmarks.md)")
    p.set_defaults(handler="serve_cmd:run_predict")


def add_prepare(subparsers):
    p = subparsers.add_parser("prepare", help="build the cache of a table file (criteo:, avazu:, csv:) once (before `launch` "
                                              "or several runs); training then memory-maps it")
    add_data_args(p)
    p.set_defaults(handler="prepare_cmd:run")


def add_models(subparsers):
    p = subparsers.add_parser("models", help="list the registered models: hyperparameters, defaults, "
                                             "ranges, learning rate, tables, ONNX export")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler="models_cmd:run")


def add_compare(subparsers):
    p = subparsers.add_parser("compare", help="train several models (default FM and DeepFM) on the same "
                                              "data under two protocols; print a table")
    p.add_argument("--models", default="fm,deepfm", metavar="NAMES",
                   help="comma-separated registered models, or 'all' (default fm,deepfm)")
    p.add_argument("--seeds", type=positive_int, default=1,
                   help="seeds per model and protocol (--seed .. --seed+N-1); with 2 or more, "
                        "each model is paired by seed with the first one (paired t-test)")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--out", default=os.path.join("runs", "compare"), help="output directory")
    p.add_argument("--json", action="store_true", help="print both protocols' rows as JSON")
    add_tuned_comparison_args(p, "compared model")
    p.add_argument("--config", action="append", default=None, metavar="FILE",
                   help="compare at these configurations (one JSON file per model, e.g. tune's "
                        "best.json; repeatable), over --seeds seeds under both protocols")
    p.set_defaults(handler="compare_cmd:run")


def add_tuned_comparison_args(parser, models):
    """--tune and --storage of `compare` and `reproduce` (cli/tuned_compare_cmd.py)."""
    parser.add_argument("--tune", type=positive_int, default=None, metavar="TRIALS",
                        help=f"tune every {models} first, each with this many trials on validation "
                             "(needs the tune extra; docs/tuning.md), then train each best configuration "
                             "over --seeds seeds under both protocols, with paired tests")
    parser.add_argument("--storage", default=None, metavar="URL",
                        help="with --tune: the studies' database (default sqlite:///OUT/tuning/study.db)")


def add_experiments(subparsers):
    p = subparsers.add_parser("reproduce", help="the chapter's FM vs DeepFM experiment over seeds, as a report")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--seeds", type=positive_int, default=5, help="number of seeds (--seed .. --seed+N-1)")
    p.add_argument("--target-auc", type=float, default=None,
                   help="AUC for 'epochs to reach' (default: 99%% of FM's best mean test AUC)")
    p.add_argument("--out", default=os.path.join("runs", "reproduce"))
    add_tuned_comparison_args(p, "model (FM and DeepFM)")
    p.set_defaults(handler="experiment_cmds:run_reproduce")
    p = subparsers.add_parser("sweep", help="exercises: DeepFM MLP structures and FM embedding sizes")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--what", choices=["mlp", "factors", "all"], default="all")
    p.add_argument("--seeds", type=positive_int, default=1)
    p.add_argument("--out", default=os.path.join("runs", "sweep"))
    p.set_defaults(handler="experiment_cmds:run_sweep")


def add_tune(subparsers):
    p = subparsers.add_parser(
        "tune", help="tune a model's hyperparameters on validation with Optuna (needs the tune extra)",
        description="TPE sampling over the model's search space, median pruning on the per-epoch "
                    "validation metric, every trial early-stopped on validation; the study lives in "
                    "a database (SQLite by default) that a killed run resumes and several processes "
                    "or machines share. Writes best.json (for train --config), trials.csv/.md and "
                    "plots to --out. See docs/tuning.md.")
    p.add_argument("--model", default="deepfm", help="the model to tune (`deepfm-gluon models` lists them)")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--trials", type=positive_int, default=20,
                   help="budget: finished trials (complete or pruned) of the study, all workers together")
    p.add_argument("--timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="start no new trial after this many seconds")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="Optuna RDB storage URL (default sqlite:///OUT/study.db; postgresql://..., "
                        "mysql+pymysql://... work the same)")
    p.add_argument("--study", default=None, metavar="NAME", help="study name (default: the model's name)")
    p.add_argument("--continue-study", action="store_true",
                   help="add to a study that holds another model's or data set's trials")
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="worker processes on this machine sharing the study (OMP threads split among them)")
    p.add_argument("--space", default=None, metavar="FILE",
                   help="JSON overrides of the model's search space: NAME: {\"low\", \"high\", \"log\"}, "
                        "{\"choices\": [...]}, {\"widths\", \"depths\"} or a fixed value")
    p.add_argument("--out", default=os.path.join("runs", "tune"), help="output directory")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # a --jobs child: no outputs
    p.set_defaults(handler="tune_cmd:run")


def add_launch(subparsers):
    p = subparsers.add_parser(
        "launch", help="train on N worker processes (and M kvstore servers), here or over ssh",
        description="Start a scheduler, M servers and N workers running `train` with "
                    "--kvstore dist_sync. Example: deepfm-gluon launch --workers 2 --servers 1 "
                    "-- train --model fm --epochs 5")
    p.add_argument("--workers", type=positive_int, required=True, help="number of workers (N)")
    p.add_argument("--servers", type=positive_int, default=1, help="number of kvstore servers (M)")
    p.add_argument("--kvstore", choices=["dist_sync", "dist_async"], default="dist_sync")
    p.add_argument("--hosts", default=None,
                   help="host file, one [user@]host[:ssh_port] per line: servers and workers are "
                        "started there over ssh, round-robin (default: all on this machine)")
    p.add_argument("--scheduler-host", default=None,
                   help="with --hosts: the address the hosts reach this machine at "
                        "(default: its fully qualified name)")
    p.add_argument("--port", type=port_number, default=None,
                   help="scheduler port (default: a free one)")
    p.add_argument("--remote-python", default="python3", help="with --hosts: the Python to run there")
    p.add_argument("--remote-dir", default=None,
                   help="with --hosts: directory to run in there (default: the current one)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for every process (repeatable)")
    p.add_argument("--timeout", type=positive_float, default=None,
                   help="stop the whole job after this many seconds")
    p.add_argument("--dry-run", action="store_true", help="print the commands, start nothing")
    p.add_argument("train_command", nargs=argparse.REMAINDER, metavar="-- train ...",
                   help="-- train [train options]: the command every worker runs")
    p.set_defaults(handler="launch_cmd:run")


BENCH_SIZES = (("train-rows", "training lines (default 15000, the book's size)"),
               ("test-rows", "test lines (default 3000)"),
               ("epochs", "training epochs per measurement (default 3)"),
               ("batch-size", "training batch (default 2048)"),
               ("repeats", "interleaved repeats; medians are reported (default 3)"),
               ("predict-rows", "rows scored per prediction pass (default 262144)"),
               ("predict-batch", "prediction batch (default 8192)"),
               ("encode-rows", "lines our encoder reads (default 1000000)"),
               ("d2l-encode-rows", "lines d2l.CTRDataset encodes (default 100000; "
                                   "it is too slow for a million)"),
               ("threads", "OMP_NUM_THREADS for every pipeline (default: CPU count)"))


def add_bench(subparsers):
    p = subparsers.add_parser("bench", help="benchmark against the book's pipeline and the PyTorch peer")
    p.add_argument("--quick", action="store_true",
                   help="CI-size smoke run (tiny data, one repeat); numbers mean little")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--out", default=None, help="also write the JSON report to this file")
    for name, help_text in BENCH_SIZES:
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
    p.add_argument("--zoo", action="store_true",
                   help="instead: every model against its pytorch-fm twin at book and BARS size "
                        "(needs --peer-python; benchmarks/setup_peers.sh makes that venv)")
    p.add_argument("--peer-python", default=None, help="a Python with torch and torchfm (for --zoo)")
    p.add_argument("--twin-script", default=os.path.join("benchmarks", "peers", "torchfm_twin.py"),
                   help="the pytorch-fm runner (default benchmarks/peers/torchfm_twin.py)")
    p.add_argument("--models", default=None, help="--zoo: comma-separated model names (default: all)")
    p.add_argument("--fuxictr-zoo", default=None,
                   help="--zoo: a reczoo/FuxiCTR checkout's model_zoo folder: adds FuxiCTR's DeepFM at BARS size")
    p.add_argument("--bars-batches", type=positive_int, default=8,
                   help="--zoo: batches of 4096 timed at BARS size (default 8)")
    p.add_argument("--book-epochs", type=positive_int, default=1,
                   help="--zoo: epochs timed at book size, the same for every side (default 1: "
                        "each side's first-batch costs are in the rate; more epochs amortize them)")
    p.add_argument("--sizes", default="book,bars", help="--zoo: which sizes, comma-separated (default book,bars)")
    p.set_defaults(handler="bench_cmd:run")


def add_export(subparsers):
    p = subparsers.add_parser(
        "export", help="write a saved model as ONNX or MXNet symbol+params, with its encoder JSON")
    p.add_argument("--model-dir", required=True, help="a directory that `train` wrote")
    p.add_argument("--format", required=True, choices=["onnx", "mxnet"],
                   help="onnx: one .onnx file (opset 17; needs the serve extra); mxnet: "
                        "PATH-symbol.json and PATH-0000.params for SymbolBlock.imports")
    p.add_argument("--out", required=True,
                   help="onnx: the .onnx file; mxnet: the path prefix; an existing directory "
                        "gets model.* inside. The encoder goes beside it as *.encoder.json; "
                        "the folder must exist")
    p.add_argument("--force", action="store_true", help="replace existing export files")
    p.set_defaults(handler="export_cmd:run")


SERVE_FLAGS = (
    ("max_batch_rows", "rows per model call, gathered from concurrent requests"),
    ("max_wait_ms", "how long a batch waits for more requests"),
    ("max_request_rows", "rows in one request"),
    ("max_body_bytes", "bytes in one request body"),
    ("max_header_bytes", "bytes of a request's line and headers (h11's incomplete-event limit)"),
    ("max_connections", "open connections; a request beyond them gets 503"),
    ("header_timeout_s", "seconds a connection may take to send a request's headers"),
    ("body_timeout_s", "seconds a request may take to send its body"),
    ("keep_alive_s", "seconds an idle keep-alive connection stays open"),
    ("graceful_timeout_s", "on SIGTERM, seconds the requests in flight may take"),
    ("onnx_threads", "ONNX Runtime threads per model call (--engine onnxruntime)"),
)


def add_http(subparsers):
    p = subparsers.add_parser("serve", help="an HTTP server: POST /predict, GET /health, GET /metadata")
    p.add_argument("--model-dir", required=True, help="a directory that `train` wrote")
    p.add_argument("--host", default="127.0.0.1")
    add_serve_setting(p, "port", "0 picks a free port (printed)")
    p.add_argument("--engine", choices=["mxnet", "onnxruntime", "folded"], default="mxnet")
    p.add_argument("--token-file", default=None,
                   help="a file holding a bearer token: then /predict and /metadata need "
                        "'Authorization: Bearer TOKEN' (/health stays open); read once at start")
    for name, help_text in SERVE_FLAGS:
        add_serve_setting(p, name, help_text)
    p.set_defaults(handler="http_cmd:run")


def add_explain(subparsers):
    p = subparsers.add_parser(
        "explain", help="reliability diagram, permutation importance and field x field interactions of a "
                        "saved model (PNG + JSON)")
    p.add_argument("--model-dir", required=True, help="a directory that `train` wrote")
    p.add_argument("--data", default=None,
                   help="a labelled file in the training format (reliability, interactions and, without "
                        "--validation, importance), or a data name (synthetic, ctr, a folder, criteo:PATH); "
                        "default: the data the run trained on, its validation split for importance")
    p.add_argument("--validation", default=None, help="with --data FILE: a labelled file for importance")
    p.add_argument("--data-dir", default=None, help="cache folder for data sets (as for train)")
    p.add_argument("--out", default=None, help="output folder (default MODEL_DIR/explain)")
    p.add_argument("--fields", default=None, help="comma-separated field names to restrict importance and "
                                                  "interactions to (default: all)")
    p.add_argument("--repeats", type=positive_int, default=5, help="shuffles per field (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffles and of the row sample")
    p.add_argument("--max-rows", type=positive_int, default=50_000,
                   help="importance and interactions use a seeded sample of at most this many rows")
    p.set_defaults(handler="explain_cmd:run")


SUBCOMMANDS = [add_train, add_models, add_serve, add_prepare, add_compare, add_experiments, add_tune, add_launch,
               add_bench, add_export, add_http, add_explain]


def build_parser():
    """The `deepfm-gluon` parser; ``args.handler`` names the command's 'module:function'."""
    parser = argparse.ArgumentParser(
        prog="deepfm-gluon",
        description="DeepFM and FM from d2l.ai, in MXNet/Gluon: train, evaluate, predict, compare.")
    parser.add_argument("--version", action="version", version=f"deepfm-gluon {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser
