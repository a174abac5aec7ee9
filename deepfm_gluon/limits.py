"""Size limits checked before anything large is allocated, and a JSON
nesting check: a hostile or mistyped model, checkpoint or flag is refused
with one line instead of costing gigabytes (docs/reliability.md)."""

MAX_FIELDS = 10_000            # num_feat: Criteo has 39
MAX_FACTORS = 4_096            # num_factors: the book uses 10 and 20
MAX_MLP_WIDTH = 65_536         # one hidden layer's size
MAX_MLP_LAYERS = 64
MAX_PARAMETERS = 2 ** 30       # embedding rows x (factors + 1): 4 GiB of float32
MAX_JSON_DEPTH = 32            # model/checkpoint JSON is at most a few levels deep
MAX_CPU_CONTEXTS = 64          # --devices cpu:N
MAX_SEED = 2 ** 32 - 1         # numpy's seed range


def json_depth(value, limit=MAX_JSON_DEPTH):
    """Nesting depth of a parsed JSON value, counting stops past ``limit``."""
    depth, level = 0, [value]
    while level and depth <= limit:
        depth += 1
        nxt = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item)
        level = nxt
    return depth


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def model_config_problem(config, num_feat=None):
    """The first problem of a model config dict's field_dims (and the table
    size they make with ``num_factors``, where the model has one) as
    'key: ...' text; None if it is sound. Checked from the numbers alone,
    before any array exists; the model's own hyperparameters are its
    ModelSpec's to check (``config_problem``)."""
    dims = config.get("field_dims")
    if not isinstance(dims, list) or not dims or not all(is_int(d) and d >= 1 for d in dims):
        return "field_dims: expected a non-empty list of positive integers"
    if len(dims) > MAX_FIELDS:
        return f"field_dims: {len(dims)} fields, more than the limit {MAX_FIELDS}"
    if num_feat is not None and len(dims) != num_feat:
        return f"field_dims: {len(dims)} fields but num_feat is {num_feat}"
    factors = config.get("num_factors", 1)
    if not is_int(factors) or not 1 <= factors <= MAX_FACTORS:
        return f"num_factors: expected an integer 1..{MAX_FACTORS}, got {factors!r}"
    size = sum(dims) * (factors + 1)
    if size > MAX_PARAMETERS:
        return (f"field_dims: {sum(dims)} rows x {factors + 1} columns = {size} parameters, "
                f"more than the limit {MAX_PARAMETERS}")
    return None


# `serve`'s numeric settings: name -> (type, least, most, default, unit). The
# flags (cli/parser.py, --max-wait-ms for max_wait_ms) and ServeConfig.validate
# both read this table, so a value is refused the same way from the command line
# and from Python; NaN and infinities are outside every range (docs/serving.md).
SERVE_SETTINGS = {
    "port": (int, 0, 65535, 8080, "a TCP port (0: a free one)"),
    "max_batch_rows": (int, 1, 1_000_000, 2048, "rows"),
    "max_wait_ms": (float, 0.0, 5000.0, 2.0, "milliseconds"),
    "max_request_rows": (int, 1, 1_000_000, 10_000, "rows"),
    "max_body_bytes": (int, 1, 1 << 30, 4 << 20, "bytes"),
    "max_header_bytes": (int, 1024, 1 << 20, 16 << 10, "bytes"),
    "max_connections": (int, 1, 10_000, 512, "connections"),
    "header_timeout_s": (float, 0.1, 600.0, 10.0, "seconds"),
    "body_timeout_s": (float, 0.1, 3600.0, 30.0, "seconds"),
    "keep_alive_s": (float, 0.1, 3600.0, 5.0, "seconds"),
    "graceful_timeout_s": (float, 0.1, 600.0, 10.0, "seconds"),
    "onnx_threads": (int, 1, 256, 1, "threads"),
}


def serve_setting_problem(name, value):
    """Why ``value`` is no valid ``serve`` setting ``name`` ('expected an integer
    1..2048 (rows)'), or None. NaN and infinities fail every range."""
    kind, least, most, _, unit = SERVE_SETTINGS[name]
    number = "an integer" if kind is int else "a number"
    expected = f"expected {number} {_show(least)}..{_show(most)} ({unit})"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return expected
    if kind is int and not isinstance(value, int):
        return expected
    if not least <= value <= most:  # False for NaN
        return expected
    return None


def _show(bound):
    return str(int(bound)) if float(bound).is_integer() else str(bound)
