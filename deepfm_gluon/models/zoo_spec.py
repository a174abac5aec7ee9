"""What the zoo models' specs share: FuxiCTR's model defaults for the
hyperparameters every embedding model has, and the training part of their
search space. The names are FM's and DeepFM's (``num_factors``,
``mlp_dims``, ``drop_rate``), so presets and flags apply to every model."""
import dataclasses

from .deepfm import DROP_RATE, MLP_DIMS
from .fm import NUM_FACTORS
from .spec import Choice, FloatRange, LayerSizes

# FuxiCTR's defaults in its model classes (WideDeep, NFM, xDeepFM, DCNv2,
# AutoInt): embedding_dim 10, hidden units [64, 64, 64], net_dropout 0.
NUM_FACTORS = dataclasses.replace(NUM_FACTORS, default=10)
MLP_DIMS = dataclasses.replace(MLP_DIMS, default=[64, 64, 64])
DROP_RATE = dataclasses.replace(DROP_RATE, default=0.0)

# Training settings, as DeepFM's search space (models/deepfm.py).
TRAINING_SPACE = {"lr": FloatRange(1e-4, 3e-2, log=True), "embedding_l2": FloatRange(1e-8, 1e-1, log=True),
                  "dense_l2": FloatRange(1e-8, 1e-2, log=True),
                  "batch_size": Choice((256, 512, 1024, 2048, 4096))}
EMBEDDING_SPACE = {"num_factors": Choice((4, 8, 16, 32))}
MLP_SPACE = {"drop_rate": FloatRange(0.0, 0.5),
             "mlp_dims": LayerSizes(widths=(32, 64, 128, 256, 400), depths=(1, 2, 3))}
