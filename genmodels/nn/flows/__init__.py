"""Normalizing-flow building blocks: small invertible transforms and their composition.

A flow is a :class:`Flow` of :class:`Transform` s (zuko's design): permutations, an LU
linear layer, coupling and masked autoregressive transforms whose element-wise map is
affine or a rational-quadratic spline. :func:`build_flow` assembles the classic ones.
"""

from genmodels.nn.flows.autoregressive import MaskedAutoregressive
from genmodels.nn.flows.base import (
    Composition,
    Flow,
    Permutation,
    Transform,
    soft_clamp,
    standard_normal_log_prob,
)
from genmodels.nn.flows.build import KINDS, build_flow
from genmodels.nn.flows.coupling import Coupling
from genmodels.nn.flows.linear import LULinear
from genmodels.nn.flows.nets import MADE, MaskedLinear
from genmodels.nn.flows.univariate import Affine, RQSpline

__all__ = ["KINDS", "MADE", "Affine", "Composition", "Coupling", "Flow", "LULinear",
           "MaskedAutoregressive", "MaskedLinear", "Permutation", "RQSpline", "Transform",
           "build_flow", "soft_clamp", "standard_normal_log_prob"]
