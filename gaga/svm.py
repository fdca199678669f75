"""`SelfPacedSVM`: a scikit-learn binary classifier fitted by the exact SVM age path."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from gaga.lasso import _REG_NAMES, _age_at
from gaga.regularizers import Regularizer

__all__ = ["SelfPacedSVM"]

_KERNELS = ("linear", "poly", "rbf", "sigmoid", "precomputed")


def _check_binary_target(y, sample_weight, name):
    """Classes of ``y``; a ValueError unless exactly two classes carry weight."""
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    classes = np.unique(y)
    if y_type != "binary" or classes.shape[0] > 2:
        raise ValueError(
            "Only binary classification is supported. The type of the target is "
            f"{y_type} ({classes.shape[0]} classes). {name} is a binary classifier: "
            "wrap it in sklearn.multiclass.OneVsRestClassifier (or "
            "OneVsOneClassifier) for a multi-class problem."
        )
    if classes.shape[0] < 2:
        raise ValueError(
            f"{name} needs samples of 2 classes; y has only one class "
            f"({classes.tolist()!r})."
        )
    if sample_weight is not None:
        kept = np.unique(y[sample_weight > 0])
        if kept.shape[0] < 2:
            raise ValueError(
                f"{name} needs samples of 2 classes with a positive sample_weight; "
                f"only the class {kept.tolist()!r} has one."
            )
    return classes


class SelfPacedSVM(ClassifierMixin, BaseEstimator):
    """Self-paced binary SVM fitted along its exact age path (GAGA).

    Minimizes over (w, b, v)

        0.5 ||w||^2 + C sum_i s_i [v_i max(0, 1 - y_i f(x_i)) + f(v_i, age)],

    with ``f(x) = <w, phi(x)> + b`` in the feature space of ``kernel``, ``s`` the
    sample weights and ``f(v, age)`` the self-paced regularizer, by following the
    whole path of partial optima over the age (:func:`gaga.age_path_svm`) and reading
    it at ``age``. With every v_i = 1 this is :class:`sklearn.svm.SVC` with the same
    ``C``, kernel parameters and sample weights. The age is compared with hinge losses.

    The classifier is binary; wrap it in :class:`sklearn.multiclass.OneVsRestClassifier`
    for more classes.

    Parameters
    ----------
    C : float, default=1.0
        Regularization parameter (as in :class:`sklearn.svm.SVC`), > 0.
    kernel : {"linear", "poly", "rbf", "sigmoid", "precomputed"}, default="rbf"
        Kernel. With ``"precomputed"``, ``X`` is the (positive semidefinite) kernel
        matrix of the training data in ``fit`` and the kernel between the test and the
        training samples, shape (n_test, n_train), elsewhere.
    gamma : {"scale", "auto"} or float, default="scale"
        Kernel coefficient of ``"rbf"``, ``"poly"`` and ``"sigmoid"``: ``"scale"`` is
        ``1 / (n_features * X.var())``, ``"auto"`` is ``1 / n_features``.
    degree : int, default=3
        Degree of the ``"poly"`` kernel.
    coef0 : float, default=0.0
        Independent term of the ``"poly"`` and ``"sigmoid"`` kernels.
    regularizer : {"hard", "linear", "log", "mixture", "polynomial"} or Regularizer, \
            default="linear"
        Self-paced regularizer.
    age : float, default=None
        Age at which the model is read; None means the end of the path (``age_max``).
    age_min, age_max : float, default=None
        Range of the path; data-driven defaults (see :func:`gaga.age_path_svm`).
    tol : float, default=1e-8
        Tolerance of the alternate convex search at the start and at jumps (see
        :func:`gaga.age_path_svm`).
    max_events : int, default=None
        Bound on the number of events of the path.
    verbose : int, default=0
        Verbosity of the path follower.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the positive class.
    support_ : ndarray of shape (n_SV,)
        Indices of the support vectors (training samples with a_i > 0 at ``age_``),
        grouped by class as in :class:`sklearn.svm.SVC` (``classes_[0]`` first), in
        increasing order inside a class.
    support_vectors_ : ndarray of shape (n_SV, n_features)
        Support vectors; an empty array of shape (0, 0) for ``kernel="precomputed"``
        (as in SVC).
    n_support_ : ndarray of shape (2,), dtype=int32
        Number of support vectors of each class.
    dual_coef_ : ndarray of shape (1, n_SV)
        ``y_i a_i`` of the support vectors (y_i = +1 for ``classes_[1]``), so that the
        decision function is ``dual_coef_ @ K(support_vectors_, x) + intercept_``.
    intercept_ : ndarray of shape (1,)
        Intercept of the decision function.
    coef_ : ndarray of shape (1, n_features)
        Primal weights; only with ``kernel="linear"`` (an AttributeError otherwise).
    age_ : float
        Age at which the model was read.
    spl_weights_ : ndarray of shape (n_samples,)
        Self-paced weights v at ``age_``.
    path_ : AgePath
        The full age path.
    n_events_ : int
        Number of events of the path.
    n_features_in_ : int
        Number of features seen in ``fit`` (n_train for ``kernel="precomputed"``).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has feature names that are all strings.

    See Also
    --------
    gaga.age_path_svm : The path function.
    gaga.cv.SelfPacedSVMCV : The age chosen by cross-validation along the paths.
    sklearn.svm.SVC : The v = 1 problem.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from gaga import SelfPacedSVM
    >>> X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    >>> clf = SelfPacedSVM(kernel="linear").fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "kernel": [StrOptions(set(_KERNELS))],
        "gamma": [
            StrOptions({"scale", "auto"}),
            Interval(Real, 0.0, None, closed="neither"),
        ],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "regularizer": [StrOptions(_REG_NAMES), Regularizer],
        "age": [None, Interval(Real, 0.0, None, closed="neither")],
        "age_min": [None, Interval(Real, 0.0, None, closed="neither")],
        "age_max": [None, Interval(Real, 0.0, None, closed="neither")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "max_events": [None, Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        C=1.0,
        *,
        kernel="rbf",
        gamma="scale",
        degree=3,
        coef0=0.0,
        regularizer="linear",
        age=None,
        age_min=None,
        age_max=None,
        tol=1e-8,
        max_events=None,
        verbose=0,
    ):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.regularizer = regularizer
        self.age = age
        self.age_min = age_min
        self.age_max = age_max
        self.tol = tol
        self.max_events = max_events
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Compute the age path and read the classifier at ``age``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Training data, or the training kernel matrix for ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
            Labels of exactly two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Nonnegative per-sample weights (they multiply ``C``, as in SVC).

        Returns
        -------
        self : SelfPacedSVM
            The fitted classifier.
        """
        from gaga._svm_path import age_path_svm

        X, y = validate_data(self, X, y, dtype=np.float64)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        classes = _check_binary_target(y, sample_weight, type(self).__name__)
        path = age_path_svm(
            X,
            y,
            regularizer=self.regularizer,
            C=self.C,
            kernel=self.kernel,
            gamma=self.gamma,
            degree=self.degree,
            coef0=self.coef0,
            age_min=self.age_min,
            age_max=self.age_max,
            sample_weight=sample_weight,
            tol=self.tol,
            max_events=self.max_events,
            verbose=self.verbose,
        )
        age = _age_at(path, self.age)
        dual = np.asarray(path.dual_coef(age), dtype=np.float64)
        intercept = float(path.intercept(age))
        if not (np.all(np.isfinite(dual)) and np.isfinite(intercept)):
            raise ValueError("The age path resulted in non-finite coefficients.")
        y_pm = np.asarray(path.problem.y_pm)
        nz = np.flatnonzero(dual != 0.0)
        neg, pos = nz[y_pm[nz] < 0], nz[y_pm[nz] > 0]
        support = np.concatenate([neg, pos]).astype(np.int32)

        self.classes_ = classes
        self.path_ = path
        self.age_ = age
        self.spl_weights_ = np.asarray(path.weights(age), dtype=np.float64)
        self.n_events_ = path.n_events
        self.support_ = support
        self.n_support_ = np.array([neg.size, pos.size], dtype=np.int32)
        if self.kernel == "precomputed":
            self.support_vectors_ = np.empty((0, 0), dtype=np.float64)
        else:
            self.support_vectors_ = X[support]
        self.dual_coef_ = dual[support][None, :]
        self.intercept_ = np.array([intercept])
        self._coef = None
        if self.kernel == "linear":
            self._coef = np.asarray(path.coef(age), dtype=np.float64)[None, :]
        return self

    @property
    def coef_(self):
        """Primal weights, shape (1, n_features); only for ``kernel="linear"``."""
        check_is_fitted(self, "path_")
        if self.kernel != "linear" or self._coef is None:
            raise AttributeError("coef_ is only available when using a linear kernel")
        return self._coef

    def decision_function(self, X):
        """Signed distance to the separating surface at ``age_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_train)
            Samples, or their kernel against the training samples for
            ``kernel="precomputed"``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Positive values predict ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        if self.kernel == "precomputed":
            K = X[:, self.support_]
        else:
            K = self.path_.problem.kernel(X, self.support_vectors_)
        return K @ self.dual_coef_[0] + self.intercept_[0]

    def predict(self, X):
        """Predict class labels at ``age_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_train)
            Samples, or their kernel against the training samples for
            ``kernel="precomputed"``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        d = self.decision_function(X)
        return self.classes_[(d > 0).astype(np.intp)]
