"""SelfPacedLasso: scikit-learn conventions, and v = 1 equals Lasso (issue 3)."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from gaga import SelfPacedLasso


@parametrize_with_checks([SelfPacedLasso(alpha=0.1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def test_v_one_equals_lasso(diabetes):
    X, y = diabetes
    # the hard regularizer past every loss: v = 1 for every sample
    est = SelfPacedLasso(alpha=0.05, regularizer="hard", age_min=50.0, age_max=100.0)
    est.fit(X, y)
    np.testing.assert_array_equal(est.spl_weights_, 1.0)
    sk = Lasso(alpha=0.05, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(est.coef_, sk.coef_, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, sk.intercept_, atol=1e-6)
    np.testing.assert_allclose(est.predict(X), sk.predict(X), atol=1e-6)


def test_fitted_attributes_are_the_path_at_age(diabetes):
    X, y = diabetes
    est = SelfPacedLasso(alpha=0.01, regularizer="linear").fit(X, y)
    assert est.age_ == est.path_.age_max
    np.testing.assert_array_equal(est.coef_, est.path_.coef(est.age_))
    mid = 0.5 * (est.path_.age_min + est.path_.age_max)
    est2 = SelfPacedLasso(
        alpha=0.01, age=mid, age_min=est.path_.age_min, age_max=est.path_.age_max
    ).fit(X, y)
    np.testing.assert_allclose(est2.coef_, est.path_.coef(mid), atol=1e-10)
    np.testing.assert_allclose(est2.spl_weights_, est.path_.weights(mid), atol=1e-10)
    assert est2.n_events_ == est2.path_.n_events
    assert est2.n_features_in_ == X.shape[1]
    assert est2.spl_weights_.shape == (X.shape[0],)


def test_age_outside_range(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="age=1000.0 is outside"):
        SelfPacedLasso(alpha=0.01, age=1000.0, age_min=0.1, age_max=10.0).fit(X, y)
    with pytest.raises(ValueError, match="age_min"):
        SelfPacedLasso(alpha=0.01, age_min=-1.0).fit(X, y)


def test_sparse_input_is_a_clear_type_error(diabetes):
    from scipy import sparse

    X, y = diabetes
    with pytest.raises(TypeError, match="[Ss]parse"):
        SelfPacedLasso().fit(sparse.csr_matrix(X), y)
