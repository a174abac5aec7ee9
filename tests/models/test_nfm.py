"""NFM: linear + MLP(bi-interaction), the pooled vector written as the
paper's sum over field pairs i<j of e_i * e_j (element-wise), in numpy."""
from deepfm_gluon.models import get_spec

from .zoo_oracle import FIELD_DIMS, check_forward, check_onnx, check_sparse_training, linear, mlp, random_inputs, random_model


def bi_interaction(embeds):
    """(B, f, k) -> (B, k): sum_{i<j} e_i * e_j by the explicit double loop."""
    f = embeds.shape[1]
    return sum(embeds[:, i] * embeds[:, j] for i in range(f) for j in range(i + 1, f))


def reference_logit(params, x, hidden_layers):
    pooled = bi_interaction(params["embedding.weight"][x])
    return linear(params, x) + mlp(params, "mlp", pooled, hidden_layers)[:, 0]


def test_forward_matches_numpy():
    net = random_model("nfm", num_factors=4, mlp_dims=[8, 5], drop_rate=0.2)
    check_forward(net, lambda p, x: reference_logit(p, x, 2), random_inputs(FIELD_DIMS, 32))


def test_no_hidden_layer_is_a_weighted_fm():
    """NFM-0 (mlp_dims []): the MLP is Dense(1) on the pooled vector, so with
    all-one weights it is FM's pairwise term."""
    net = random_model("nfm", num_factors=4, mlp_dims=[])
    net.mlp[0].weight.set_data(net.mlp[0].weight.data() * 0 + 1)
    net.mlp[0].bias.set_data(net.mlp[0].bias.data() * 0)
    x = random_inputs(FIELD_DIMS, 16)

    def fm(params, x):
        e = params["embedding.weight"][x]
        return linear(params, x) + sum((e[:, i] * e[:, j]).sum(axis=1) for i in range(6) for j in range(i + 1, 6))
    check_forward(net, fm, x)


def test_spec():
    spec = get_spec("nfm")
    assert spec.interactions == "embedding" and spec.output_bias == "linear_layer.bias"


def test_onnx_export_matches():
    net = random_model("nfm", num_factors=4, mlp_dims=[8, 5], drop_rate=0.2)
    check_onnx(net, "nfm", random_inputs(FIELD_DIMS, 64))


def test_sparse_training_lowers_the_loss(small_split):
    check_sparse_training("nfm", small_split, num_factors=4, mlp_dims=[16])
