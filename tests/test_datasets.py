"""Noise injection and data loading: `gaga.datasets`."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.svm import LinearSVC

from gaga.datasets import add_outliers, flip_labels, inject_noise, load_data


def test_add_outliers_fraction_size_and_reproducibility():
    rng = np.random.RandomState(0)
    y = rng.randn(200)
    y2, noisy = add_outliers(y, 0.1, scale=5.0, random_state=3)
    assert noisy.sum() == 20
    np.testing.assert_array_equal(y2[~noisy], y[~noisy])
    assert np.all(np.abs(y2[noisy] - y[noisy]) >= 5.0 * y.std() - 1e-12)
    y3, noisy3 = add_outliers(y, 0.1, random_state=3)
    np.testing.assert_array_equal(y2, y3)
    np.testing.assert_array_equal(noisy, noisy3)
    y4, _ = add_outliers(y, 0.1, random_state=4)
    assert not np.array_equal(y2, y4)
    y0, n0 = add_outliers(y, 0.0, random_state=0)
    np.testing.assert_array_equal(y0, y)
    assert not n0.any()


def test_flip_labels_near_the_boundary():
    X, y = make_classification(
        n_samples=300, n_features=5, n_informative=3, class_sep=1.5, random_state=0
    )
    y2, noisy = flip_labels(X, y, 0.1, random_state=0)
    assert noisy.sum() == 30
    assert np.all(y2[noisy] != y[noisy]) and np.all(y2[~noisy] == y[~noisy])
    margin = np.abs(
        LinearSVC(dual="auto", max_iter=20000, random_state=0)
        .fit(X, y)
        .decision_function(X)
    )
    # every flipped sample is among the 2 * 30 smallest margins
    assert margin[noisy].max() <= np.sort(margin)[59] + 1e-12
    assert np.median(margin[noisy]) < np.median(margin)
    y3, _ = flip_labels(X, y, 0.1, random_state=0)
    np.testing.assert_array_equal(y2, y3)
    # string labels and more than two classes: flip to another existing class
    X3, c3 = make_classification(
        n_samples=150, n_classes=3, n_informative=3, random_state=1
    )
    labels = np.array(["a", "b", "c"])[c3]
    l2, n2 = flip_labels(X3, labels, 0.2, random_state=0)
    assert n2.sum() == 30 and np.all(l2[n2] != labels[n2])
    assert set(l2) <= {"a", "b", "c"}


def test_inject_noise_dispatch_and_errors():
    X = np.random.RandomState(0).randn(20, 2)
    y = (X[:, 0] > 0).astype(int)
    assert inject_noise(X, y, 0.2, task="classification", random_state=0)[1].sum() == 4
    assert (
        inject_noise(X, X[:, 1], 0.2, task="regression", random_state=0)[1].sum() == 4
    )
    with pytest.raises(ValueError, match="task"):
        inject_noise(X, y, 0.1, task="ranking")
    with pytest.raises(ValueError, match="noise"):
        add_outliers(y, 1.5)
    with pytest.raises(ValueError, match="two classes"):
        flip_labels(X, np.zeros(20), 0.1)


def test_load_data_bundled_and_csv(tmp_path):
    X, y, names = load_data("diabetes")
    assert X.shape == (442, 10) and y.shape == (442,) and len(names) == 10
    f = tmp_path / "d.csv"
    f.write_text("a,b,target\n1,2,0.5\n3,4,1.5\n5,6,2.5\n")
    X, y, names = load_data(str(f), label="target")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(y, [0.5, 1.5, 2.5])
    assert names == ["a", "b"]
    with pytest.raises(ValueError, match="label"):
        load_data(str(f))
    with pytest.raises(ValueError, match="not in the header"):
        load_data(str(f), label="nope")
    with pytest.raises(ValueError, match="neither a bundled"):
        load_data(str(tmp_path / "missing.csv"), label="target")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,target\nx,1\n2,3\n")
    with pytest.raises(ValueError, match="non-numeric"):
        load_data(str(bad), label="target")
