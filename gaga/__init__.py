"""gaga: exact age paths of self-paced learning, and permutation matching."""

import logging

__version__ = "0.1.0.dev0"

logging.getLogger("gaga").addHandler(logging.NullHandler())

from gaga._lasso_path import age_path_lasso  # noqa: E402
from gaga._path import AgePath, PathEvent  # noqa: E402
from gaga._svm_path import age_path_svm  # noqa: E402
from gaga.baselines import ACSPathResult, ACSResult, acs, acs_path  # noqa: E402
from gaga.cv import SelfPacedLassoCV, SelfPacedSVMCV  # noqa: E402
from gaga.lasso import SelfPacedLasso  # noqa: E402
from gaga.problems import LassoProblem, SVMProblem  # noqa: E402
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
from gaga.svm import SelfPacedSVM  # noqa: E402
from gaga.verify import Certificate, certify, certify_many  # noqa: E402

__all__ = [
    "__version__",
    "ACSPathResult",
    "ACSResult",
    "Certificate",
    "LassoProblem",
    "SVMProblem",
    "acs",
    "acs_path",
    "certify",
    "certify_many",
    "AgePath",
    "PathEvent",
    "SelfPacedLasso",
    "SelfPacedLassoCV",
    "SelfPacedSVM",
    "SelfPacedSVMCV",
    "age_path_lasso",
    "age_path_svm",
    "CustomRegularizer",
    "Hard",
    "Linear",
    "Logarithmic",
    "Mixture",
    "Polynomial",
    "Regularizer",
    "get_regularizer",
]
