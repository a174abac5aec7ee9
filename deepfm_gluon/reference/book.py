"""The chapters' Blocks, verbatim: the oracle the models are tested against.

``BookDeepFM`` (d2l.ai, "Deep Factorization Machines") and ``BookFM``
(d2l.ai, "Factorization Machines") are the books' ``nn.Block`` code copied
as printed (eager, axis reductions, ``** 2``, a sigmoid at the end); only
the class names differ, so that they sit beside the package's ``DeepFM`` and
``FM``. Tests, benchmarks and notebooks import them from here. Do not speed
them up or fix them: their point is to be the book's.

x: int32 (batch, num_fields) feature indices; both return (batch, 1)
float32 click probabilities.
"""
from mxnet import np, npx
from mxnet.gluon import nn


class BookDeepFM(nn.Block):
    """The chapter's DeepFM, verbatim (d2l.ai, "Deep Factorization Machines")."""

    def __init__(self, field_dims, num_factors, mlp_dims, drop_rate=0.1):
        super(BookDeepFM, self).__init__()
        num_inputs = int(sum(field_dims))
        self.embedding = nn.Embedding(num_inputs, num_factors)
        self.fc = nn.Embedding(num_inputs, 1)
        self.linear_layer = nn.Dense(1, use_bias=True)
        input_dim = self.embed_output_dim = len(field_dims) * num_factors
        self.mlp = nn.Sequential()
        for dim in mlp_dims:
            self.mlp.add(nn.Dense(dim, 'relu', True, in_units=input_dim))
            self.mlp.add(nn.Dropout(rate=drop_rate))
            input_dim = dim
        self.mlp.add(nn.Dense(in_units=input_dim, units=1))

    def forward(self, x):
        embed_x = self.embedding(x)
        square_of_sum = np.sum(embed_x, axis=1) ** 2
        sum_of_square = np.sum(embed_x ** 2, axis=1)
        inputs = np.reshape(embed_x, (-1, self.embed_output_dim))
        x = self.linear_layer(self.fc(x).sum(1)) \
            + 0.5 * (square_of_sum - sum_of_square).sum(1, keepdims=True) \
            + self.mlp(inputs)
        x = npx.sigmoid(x)
        return x


class BookFM(nn.Block):
    """The FM chapter's FM, verbatim (d2l.ai, "Factorization Machines")."""

    def __init__(self, field_dims, num_factors):
        super(BookFM, self).__init__()
        num_inputs = int(sum(field_dims))
        self.embedding = nn.Embedding(num_inputs, num_factors)
        self.fc = nn.Embedding(num_inputs, 1)
        self.linear_layer = nn.Dense(1, use_bias=True)

    def forward(self, x):
        square_of_sum = np.sum(self.embedding(x), axis=1) ** 2
        sum_of_square = np.sum(self.embedding(x) ** 2, axis=1)
        x = self.linear_layer(self.fc(x).sum(1)) \
            + 0.5 * (square_of_sum - sum_of_square).sum(1, keepdims=True)
        x = npx.sigmoid(x)
        return x
