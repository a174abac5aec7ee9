"""DeepFM (d2l "Deep Factorization Machines"), as a HybridBlock: the FM of
``fm.py`` plus an MLP over the same embeddings."""
from mxnet.gluon import nn

from .fm import FM


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
        return self.fm_logit(F, x, embed_x) + self.mlp(embed_x)
