"""Hybridizing a model that will only predict (serving, prediction benchmarks).

MXNet 1.9.1's MKLDNN subgraph backend rewrites an inference graph: each
Dense's FullyConnected and its ReLU become one fused operator, and Dropout
(an identity when predicting) goes. For the book's DeepFM a prediction batch
runs 29 engine operators instead of 35 (benchmarks/op_counts.py), with the
same outputs bit for bit (tests/models/test_inference.py). The fused graph
has no backward: never use it on a Block that trains.
"""
import mxnet as mx

_BACKEND = []  # memo: the subgraph backend, or None where this MXNet has no MKLDNN


def inference_backend():
    """'MKLDNN' where this MXNet build has it, else None."""
    if not _BACKEND:
        _BACKEND.append("MKLDNN" if mx.runtime.Features().is_enabled("MKLDNN") else None)
    return _BACKEND[0]


def hybridize_for_inference(block, static_shape=False):
    """Hybridize ``block`` (a HybridBlock that only predicts) with static
    memory and, where available, the MKLDNN subgraph backend."""
    backend = inference_backend()
    options = {"backend": backend} if backend else {}
    block.hybridize(static_alloc=True, static_shape=static_shape, **options)
