"""Wide & Deep: wide (linear over one-hot) + deep (MLP over the embeddings
side by side), against plain numpy."""
from deepfm_gluon.models import get_spec

from .zoo_oracle import FIELD_DIMS, check_forward, check_onnx, check_sparse_training, linear, mlp, random_inputs, random_model


def reference_logit(params, x, hidden_layers):
    wide = linear(params, x)
    deep = mlp(params, "mlp", params["embedding.weight"][x].reshape(len(x), -1), hidden_layers)
    return wide + deep[:, 0]


def test_forward_matches_numpy():
    net = random_model("widedeep", num_factors=4, mlp_dims=[8, 5], drop_rate=0.3)
    check_forward(net, lambda p, x: reference_logit(p, x, 2), random_inputs(FIELD_DIMS, 32))


def test_defaults_are_fuxictr_s():
    spec = get_spec("widedeep")
    assert spec.defaults() == {"num_factors": 10, "mlp_dims": [64, 64, 64], "drop_rate": 0.0}
    assert set(spec.tables) == {"embedding", "fc"} and spec.output_bias == "linear_layer.bias"


def test_onnx_export_matches():
    net = random_model("widedeep", num_factors=4, mlp_dims=[8, 5], drop_rate=0.3)
    check_onnx(net, "widedeep", random_inputs(FIELD_DIMS, 64))


def test_sparse_training_lowers_the_loss(small_split):
    check_sparse_training("widedeep", small_split, num_factors=4, mlp_dims=[16])
