"""Derivatives of coordinate networks with respect to their inputs.

``value_and_derivatives`` is the one call tasks use; ``gradient``, ``divergence``,
``laplacian``, ``jacobian`` and ``hessian`` are the autograd operators on tensors.
"""

from .autograd import divergence, gradient, hessian, jacobian, laplacian
from .fields import FieldDerivatives, value_and_derivatives

__all__ = [
    "FieldDerivatives",
    "divergence",
    "gradient",
    "hessian",
    "jacobian",
    "laplacian",
    "value_and_derivatives",
]
