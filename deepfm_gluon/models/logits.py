"""A view of a model that returns logits, so the loss sees the score once."""
from mxnet.gluon import nn


class LogitView(nn.HybridBlock):
    """Shares every parameter with ``model`` and returns ``model.logit(x)``.

    The book applies SigmoidBinaryCrossEntropyLoss (which adds a sigmoid) to a
    Block that already ends in a sigmoid. Training on this view instead keeps
    the model's own output the book's probability while the loss is the
    numerically stable logit form.
    """

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.model = model

    def hybrid_forward(self, F, x):
        return self.model.logit(F, x)
