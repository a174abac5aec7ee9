"""DCN-V2 (parallel): cross layers x_{l+1} = x0 * (W_l x_l + b_l) + x_l and
an MLP over x0, concatenated into one Dense(1), against plain numpy."""
import numpy as onp
import pytest

from deepfm_gluon.models import get_spec

from .zoo_oracle import FIELD_DIMS, check_forward, check_onnx, check_sparse_training, dense, mlp, random_inputs, random_model


def reference_logit(params, x, num_cross_layers, hidden_layers):
    x0 = params["embedding.weight"][x].reshape(len(x), -1)
    xl = x0
    for layer in range(num_cross_layers):
        W, b = params[f"cross.{layer}.weight"], params[f"cross.{layer}.bias"]
        xl = x0 * (xl @ W.T + b) + xl
    deep = mlp(params, "mlp", x0, hidden_layers, output=False)
    return dense(params, "output_layer", onp.concatenate([xl, deep], axis=1))[:, 0]


def test_forward_matches_numpy():
    net = random_model("dcnv2", scale=0.25, num_factors=3, mlp_dims=[8, 5], num_cross_layers=2, drop_rate=0.1)
    check_forward(net, lambda p, x: reference_logit(p, x, 2, 2), random_inputs(FIELD_DIMS, 32))


def test_spec_and_refusals():
    spec = get_spec("dcnv2")
    assert spec.defaults() == {"num_factors": 10, "mlp_dims": [64, 64, 64], "drop_rate": 0.0,
                               "num_cross_layers": 3}
    assert spec.tables == ("embedding",) and spec.output_bias == "output_layer.bias"
    assert "num_cross_layers" in spec.config_problem({"num_cross_layers": 0})
    assert "mlp_dims" in spec.config_problem({"mlp_dims": []})
    with pytest.raises(ValueError, match="mlp_dims"):
        spec.block(FIELD_DIMS, 4, [])


def test_onnx_export_matches():
    net = random_model("dcnv2", scale=0.25, num_factors=3, mlp_dims=[8, 5], num_cross_layers=2)
    check_onnx(net, "dcnv2", random_inputs(FIELD_DIMS, 64))


def test_sparse_training_lowers_the_loss(small_split):
    check_sparse_training("dcnv2", small_split, num_factors=4, mlp_dims=[16], num_cross_layers=2)
