"""Which devices to train on.

The book uses ``d2l.try_all_gpus()``, which is ``[]`` on a machine without a
GPU; train_ch13 then divides by zero. Here no GPU means CPU.
"""
import mxnet as mx

from ..errors import DeepFMError


def parse_contexts(spec=None):
    """Contexts from a spec: None/'auto' (all GPUs, else one CPU), 'cpu',
    'cpu:N' (N CPU contexts, for testing multi-device code), 'gpu', or a
    comma list such as 'gpu(0),gpu(1)'. Returns a list of mx.Context."""
    num_gpus = mx.context.num_gpus()
    if spec in (None, "", "auto"):
        return [mx.gpu(i) for i in range(num_gpus)] or [mx.cpu()]
    if spec == "cpu":
        return [mx.cpu()]
    if spec.startswith("cpu:"):
        count = int(spec.split(":", 1)[1])
        return [mx.cpu(i) for i in range(count)]
    if spec == "gpu":
        if not num_gpus:
            raise DeepFMError("--devices gpu: no GPU is visible to MXNet")
        return [mx.gpu(i) for i in range(num_gpus)]
    contexts = []
    for item in spec.split(","):
        kind, _, rest = item.strip().partition("(")
        if kind not in ("cpu", "gpu") or not rest.endswith(")"):
            raise DeepFMError(f"--devices: cannot read {item!r}; expected e.g. cpu, cpu:2, gpu, gpu(0),gpu(1)")
        index = int(rest[:-1] or 0)
        if kind == "gpu" and index >= num_gpus:
            raise DeepFMError(f"--devices: gpu({index}) requested but {num_gpus} GPU(s) visible")
        contexts.append(mx.Context(kind, index))
    return contexts
