"""gaga: exact age paths of self-paced learning, and permutation matching of networks."""

import logging

__version__ = "0.1.0.dev0"

logging.getLogger("gaga").addHandler(logging.NullHandler())

from gaga.regularizers import (  # noqa: E402
    CustomRegularizer,
    Hard,
    Linear,
    Logarithmic,
    Mixture,
    Polynomial,
    Regularizer,
    get_regularizer,
)

__all__ = [
    "__version__",
    "CustomRegularizer",
    "Hard",
    "Linear",
    "Logarithmic",
    "Mixture",
    "Polynomial",
    "Regularizer",
    "get_regularizer",
]
