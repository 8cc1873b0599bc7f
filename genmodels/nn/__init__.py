"""Building blocks shared by every deep family: MLPs, residual blocks, categorical
embeddings, conditioning inputs. Flows keep their transforms in ``nn.flows``; the GAN
its blocks in ``nn.gan_blocks``."""

from __future__ import annotations

from genmodels.nn.mlp import (
    MLP,
    CategoricalEmbedding,
    ConditionalMLP,
    FieldInput,
    ResidualBlock,
    activation,
    init_linear_,
    linear,
    one_hot,
    seeded_dropout,
)

__all__ = ["MLP", "CategoricalEmbedding", "ConditionalMLP", "FieldInput", "ResidualBlock",
           "activation", "init_linear_", "linear", "one_hot", "seeded_dropout"]
