"""xDeepFM: linear + CIN + MLP. The CIN is written as the paper's eq. (6):
the outer product Z^h = X^{h-1} (x) X^0 over fields, compressed by W^h and
sum-pooled over the embedding dimension, in numpy."""
import numpy as onp

from deepfm_gluon.models import get_spec

from .zoo_oracle import (FIELD_DIMS, check_forward, check_onnx, check_sparse_training, dense, linear, mlp, numpy_params,
                         random_inputs, random_model)


def cin(params, embeds, layer_sizes):
    """(B, f, k) -> (B, sum(layer_sizes)) pooled maps. Layer h's weight is
    stored (H_h * H_{h-1}, f) and read as W[c, j, i] (j: previous map, i: field)."""
    x0, xk, pooled = embeds, embeds, []
    for h, width in enumerate(layer_sizes):
        W = params[f"cin.layers.{h}.weight"].reshape(width, xk.shape[1], x0.shape[1])
        z = onp.einsum("bjd,bid->bjid", xk, x0)  # every previous map times every field
        xk = onp.einsum("cji,bjid->bcd", W, z) + params[f"cin.layers.{h}.bias"][None, :, None]
        pooled.append(xk.sum(axis=2))
    return onp.concatenate(pooled, axis=1)


def reference_logit(params, x, layer_sizes, hidden_layers):
    embeds = params["embedding.weight"][x]
    out = linear(params, x) + dense(params, "cin.output", cin(params, embeds, layer_sizes))[:, 0]
    if hidden_layers is not None:
        out = out + mlp(params, "mlp", embeds.reshape(len(x), -1), hidden_layers)[:, 0]
    return out


def test_forward_matches_numpy():
    net = random_model("xdeepfm", scale=0.3, num_factors=3, mlp_dims=[8, 5], cin_layer_sizes=[4, 3, 5])
    check_forward(net, lambda p, x: reference_logit(p, x, [4, 3, 5], 2), random_inputs(FIELD_DIMS, 32))


def test_without_mlp_is_linear_plus_cin():
    net = random_model("xdeepfm", scale=0.3, num_factors=4, mlp_dims=[], cin_layer_sizes=[6])
    assert net.mlp is None
    check_forward(net, lambda p, x: reference_logit(p, x, [6], None), random_inputs(FIELD_DIMS, 16))


def test_spec():
    spec = get_spec("xdeepfm")
    assert spec.defaults()["cin_layer_sizes"] == [16, 16, 16]
    assert "cin_layer_sizes" in spec.config_problem({"cin_layer_sizes": []})


def test_onnx_export_matches():
    net = random_model("xdeepfm", scale=0.3, num_factors=3, mlp_dims=[8, 5], cin_layer_sizes=[4, 3, 5])
    check_onnx(net, "xdeepfm", random_inputs(FIELD_DIMS, 64))


def test_sparse_training_lowers_the_loss(small_split):
    check_sparse_training("xdeepfm", small_split, num_factors=4, mlp_dims=[16], cin_layer_sizes=[8, 8])


def test_resume_continues_exactly(small_split, tmp_path):
    """The CIN's own parameters (weight and bias of each layer, registered in
    a child block) and their Adam states go through a checkpoint: 2 epochs
    then a resume to 3 equal 3 epochs straight."""
    from deepfm_gluon.experiments.runner import train_model
    from deepfm_gluon.training.config import TrainConfig

    small = {"num_factors": 3, "mlp_dims": [4], "cin_layer_sizes": [3, 2]}

    lines = []

    def run(epochs, folder, resume=False):
        config = TrainConfig(epochs=epochs, batch_size=512, progress=False)
        net, _, _ = train_model("xdeepfm", small_split, config, model_overrides=small, log=lines.append,
                                checkpoint_dir=str(folder), resume=resume)
        return numpy_params(net)
    straight = run(3, tmp_path / "straight")
    run(2, tmp_path / "resumed")
    del lines[:]
    resumed = run(3, tmp_path / "resumed", resume=True)
    assert any("resumed from" in line for line in lines), lines
    assert sum("epoch 3/3" in line for line in lines) == 1 and not any("epoch 1/3" in line for line in lines), lines
    assert straight.keys() == resumed.keys() and "cin.layers.1.weight" in straight
    for name in straight:
        onp.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
