"""DeepFM (d2l "Deep Factorization Machines"), as a HybridBlock: the FM of
``fm.py`` plus an MLP over the same embeddings."""
import dataclasses

from mxnet.gluon import nn

from ..limits import MAX_MLP_LAYERS, MAX_MLP_WIDTH
from . import folded, kernels, onnx_layers
from .fm import FM, NUM_FACTORS, onnx_fm_logit
from .spec import Choice, FloatRange, Hyperparameter, LayerSizes, ModelSpec


class DeepFM(FM):
    """``sigmoid(linear + FM interaction + MLP(embeddings))``, the book's DeepFM.

    ``field_dims``: rows per field; ``num_factors``: embedding size k;
    ``mlp_dims``: hidden sizes; ``drop_rate``: dropout after each hidden
    layer. The FM part and the MLP share one embedding table. Children are
    the book's ``embedding``, ``fc``, ``linear_layer`` and ``mlp``
    (Dense(relu)+Dropout per entry of ``mlp_dims``, then Dense(1)), in the
    book's order.
    """

    def __init__(self, field_dims, num_factors, mlp_dims, drop_rate=0.1, **kwargs):
        super().__init__(field_dims, num_factors, **kwargs)
        self.mlp_dims = tuple(int(d) for d in mlp_dims)
        self.drop_rate = float(drop_rate)
        input_dim = self.num_fields * self.num_factors
        self.mlp = nn.HybridSequential()
        for dim in self.mlp_dims:
            self.mlp.add(nn.Dense(dim, "relu", True, in_units=input_dim))
            self.mlp.add(nn.Dropout(rate=self.drop_rate))
            input_dim = dim
        self.mlp.add(nn.Dense(in_units=input_dim, units=1))

    def config(self):
        """Constructor arguments (a JSON-able dict), for saving next to the parameters."""
        return {**super().config(), "mlp_dims": list(self.mlp_dims), "drop_rate": self.drop_rate}

    def logit(self, F, x):
        """The score before the sigmoid: the FM part plus the MLP over the same
        embeddings. x: int32 (batch, num_fields) feature indices; returns
        (batch, 1) float32."""
        embed_x = self.embedding(x).reshape((-1, self.num_fields * self.num_factors))
        # the MLP's first layer and the FM's sum over fields share one matrix product (kernels.py)
        hidden, field_sum = kernels.first_layer_and_sum_over_fields(F, self.mlp[0], embed_x, self.num_fields,
                                                                    self.num_factors)
        return self.fm_logit(F, x, embed_x, field_sum) + kernels.after_first_layer(self.mlp, hidden)


def onnx_logit(net, graph):
    """DeepFM's logit as an ONNX graph (models/onnx_layers.py): the FM part
    plus the MLP over the same embeddings, (batch, 1)."""
    embed = onnx_layers.embedding(graph, net.embedding)
    deep = onnx_layers.mlp(graph, net.mlp, onnx_layers.flatten_fields(graph, embed))
    return graph.add(onnx_fm_logit(net, graph, embed), deep, name="logit")


MLP_DIMS = Hyperparameter("mlp_dims", [30, 20, 10], "ints", 1, MAX_MLP_WIDTH, max_len=MAX_MLP_LAYERS,
                          flag="--mlp-dims", help="hidden layer sizes of the MLP")
DROP_RATE = Hyperparameter("drop_rate", 0.1, "float", 0.0, below=1.0, flag="--dropout",
                           help="dropout after each hidden layer")

MODEL = ModelSpec(
    name="deepfm", block=DeepFM,
    description="DeepFM (Guo et al., IJCAI 2017): an FM and an MLP over one shared embedding; "
                "the d2l DeepFM chapter",
    hyperparameters=(dataclasses.replace(NUM_FACTORS, default=10), MLP_DIMS, DROP_RATE), lr=0.01,
    tables=("embedding", "fc"), output_bias="linear_layer.bias", interactions="embedding",
    onnx=onnx_logit, fold=folded.fold_deepfm,
    search_space={"lr": FloatRange(1e-4, 3e-2, log=True), "embedding_l2": FloatRange(1e-8, 1e-1, log=True),
                  "dense_l2": FloatRange(1e-8, 1e-2, log=True),
                  "batch_size": Choice((256, 512, 1024, 2048, 4096)),
                  "num_factors": Choice((4, 8, 16, 32)), "drop_rate": FloatRange(0.0, 0.5),
                  "mlp_dims": LayerSizes(widths=(32, 64, 128, 256, 400), depths=(1, 2, 3))})
