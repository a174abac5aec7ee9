"""AutoInt: stacked multi-head self-attention over fields with residuals,
then Dense(1); written per example and per head as the paper's eqs. (5)-(8)
in numpy."""
import numpy as onp

from deepfm_gluon.models import get_spec

from .zoo_oracle import FIELD_DIMS, check_forward, check_onnx, check_sparse_training, dense, mlp, random_inputs, random_model


def softmax(scores):
    e = onp.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_layer(params, prefix, E, num_heads, head_dim):
    """E: (f, d_in) one example's field vectors -> (f, heads * head_dim)."""
    heads = []
    for h in range(num_heads):
        cols = slice(h * head_dim, (h + 1) * head_dim)
        Q, K, V = (E @ params[f"{prefix}.{name}.weight"][cols].T for name in ("query", "key", "value"))
        alpha = softmax(Q @ K.T)  # alpha[m, k]: attention of field m on field k, eq. (5)
        heads.append(alpha @ V)   # eq. (6)
    attended = onp.concatenate(heads, axis=1)  # eq. (7)
    residual = E @ params[f"{prefix}.residual.weight"].T if f"{prefix}.residual.weight" in params else E
    return onp.maximum(attended + residual, 0)  # eq. (8)


def reference_logit(params, x, num_layers, num_heads, head_dim, hidden_layers=None):
    out = []
    for row in x:
        E = params["embedding.weight"][row]
        for layer in range(num_layers):
            E = attention_layer(params, f"attention.{layer}", E, num_heads, head_dim)
        out.append(dense(params, "output_layer", E.reshape(1, -1))[0, 0])
    out = onp.array(out)
    if hidden_layers is not None:
        out = out + mlp(params, "mlp", params["embedding.weight"][x].reshape(len(x), -1), hidden_layers)[:, 0]
    return out


def test_forward_matches_numpy_two_heads():
    net = random_model("autoint", scale=0.3, num_factors=4, num_attention_layers=2, num_heads=2,
                       attention_dim=3, drop_rate=0.2)
    assert net.attention[0].residual is not None and net.attention[1].residual is None
    check_forward(net, lambda p, x: reference_logit(p, x, 2, 2, 3), random_inputs(FIELD_DIMS, 16))


def test_forward_matches_numpy_one_head_no_projection_and_mlp():
    """One head as wide as the embedding: the residual is E itself; with
    mlp_dims the MLP's logit is added (AutoInt+)."""
    net = random_model("autoint", scale=0.3, num_factors=4, num_attention_layers=1, num_heads=1,
                       attention_dim=4, mlp_dims=[6])
    assert net.attention[0].residual is None
    check_forward(net, lambda p, x: reference_logit(p, x, 1, 1, 4, hidden_layers=1), random_inputs(FIELD_DIMS, 16))


def test_spec():
    spec = get_spec("autoint")
    assert spec.defaults() == {"num_factors": 10, "mlp_dims": [], "drop_rate": 0.0, "num_attention_layers": 2,
                               "num_heads": 1, "attention_dim": 8}
    assert spec.tables == ("embedding",) and spec.output_bias == "output_layer.bias"
    assert random_model("autoint").mlp is None


def test_onnx_export_matches():
    net = random_model("autoint", scale=0.3, num_factors=4, num_attention_layers=2, num_heads=2, attention_dim=3,
                       mlp_dims=[5])
    check_onnx(net, "autoint", random_inputs(FIELD_DIMS, 64))


def test_sparse_training_lowers_the_loss(small_split):
    check_sparse_training("autoint", small_split, num_factors=4, num_heads=2, attention_dim=4)
