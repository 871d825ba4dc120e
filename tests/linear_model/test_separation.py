"""The separation check's sampled shortcut: a sample of the rows proves overlap, or the full LP runs.

Every verdict is compared with the LP on all rows (the shortcut switched off), which is the
check's definition; the cases where the shortcut must step aside are quasi-separations that a
random sample cannot see (a feature on three rows, two columns that differ on one row).
"""

import numpy as np
import pytest
from scipy import sparse

from mlbasics.linear_model import _separation
from mlbasics.linear_model._separation import separating_direction_exists

N, D = 4000, 5  # tall: a sample is 20 rows per column of the design, a quarter of N at most


def _design(X):
    return np.c_[X, np.ones(len(X))]


def _targets(labels, n_classes):
    Y = np.eye(n_classes)[labels]
    return Y[:, 1:] if n_classes == 2 else Y


def _verdicts(monkeypatch, A, Y):
    """(verdict, largest number of rows one LP saw), then the verdict of the LP on all rows."""
    seen = []
    lp = _separation._lp_margins

    def spy(rows, target):
        seen.append(rows.shape[0])
        return lp(rows, target)

    weights = np.ones(A.shape[0])
    with monkeypatch.context() as patch:
        patch.setattr(_separation, "_lp_margins", spy)
        sampled = separating_direction_exists(A, Y, weights, intercept=True)
    with monkeypatch.context() as patch:
        patch.setattr(_separation, "_overlap_on_a_sample", lambda A, Y: False)
        full = separating_direction_exists(A, Y, weights, intercept=True)
    return sampled, max(seen), full


@pytest.fixture
def features():
    return np.random.default_rng(0).standard_normal((N, D))


def _overlapping(features, n_classes):
    rng = np.random.default_rng(1)
    scores = features @ rng.standard_normal((D, n_classes)) + 2 * rng.gumbel(size=(N, n_classes))
    return scores.argmax(axis=1)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_a_sample_proves_the_overlap_of_tall_data(monkeypatch, features, n_classes, fmt):
    labels = _overlapping(features, n_classes)
    A = _design(features)
    A = A if fmt == "dense" else sparse.csr_array(A)
    sampled, rows, full = _verdicts(monkeypatch, A, _targets(labels, n_classes))
    assert sampled is False and full is False
    assert rows <= N // 2  # decided on samples: the LP never saw all the rows


@pytest.mark.parametrize("n_classes", [2, 4])
def test_a_duplicated_column_does_not_stop_the_sample(monkeypatch, features, n_classes):
    # The duplicate's direction is null in every row: outside no sample's span, by nothing.
    labels = _overlapping(features, n_classes)
    A = _design(np.c_[features, features[:, :1]])
    sampled, rows, full = _verdicts(monkeypatch, A, _targets(labels, n_classes))
    assert sampled is False and full is False
    assert rows <= N // 2


@pytest.mark.parametrize("n_classes", [2, 4])
def test_separable_data_go_to_the_full_lp(monkeypatch, features, n_classes):
    labels = (features @ np.random.default_rng(2).standard_normal((D, n_classes))).argmax(axis=1)
    if n_classes == 2:
        labels = (features[:, 0] > 0).astype(int)
    sampled, rows, full = _verdicts(monkeypatch, _design(features), _targets(labels, n_classes))
    assert sampled is True and full is True
    assert rows >= N  # (the multiclass LP has a row per sample and other class)


def _first_rows_of(labels, k, count):
    return np.flatnonzero(labels == k)[:count]


@pytest.mark.parametrize("n_classes", [2, 4])
def test_a_feature_on_three_rows_is_a_quasi_separation_the_sample_cannot_see(
    monkeypatch, features, n_classes
):
    # Three rows of one class carry a feature no other row has: that class's scores go to
    # infinity along it, so there is no optimum. A sample of 120 rows of 4000 seldom holds
    # them; the rows lie outside its span and the full LP decides.
    labels = _overlapping(features, n_classes)
    rare = np.zeros(N)
    rare[_first_rows_of(labels, 1, 3)] = 1.0
    A = _design(np.c_[features, rare])
    sampled, rows, full = _verdicts(monkeypatch, A, _targets(labels, n_classes))
    assert sampled is True and full is True
    assert rows >= N


def test_two_columns_that_differ_on_one_row_are_a_quasi_separation(monkeypatch, features):
    labels = _overlapping(features, 2)
    twin = features[:, 0].copy()
    twin[_first_rows_of(labels, 1, 1)] += 0.05
    A = _design(np.c_[features, twin])
    sampled, rows, full = _verdicts(monkeypatch, A, _targets(labels, 2))
    assert sampled is True and full is True
    assert rows >= N


def test_a_direction_the_sample_sees_only_faintly_is_not_trusted(monkeypatch, features):
    # A feature 1 on three rows of class 1, and noise of 1e-5 elsewhere: the sample sees the
    # noise only, so the three rows are combinations of its rows with weights of about 1e5,
    # beyond MAX_COMBINATION_WEIGHT; the verdict is the full LP's.
    labels = _overlapping(features, 2)
    faint = 1e-5 * np.random.default_rng(3).standard_normal(N)
    faint[_first_rows_of(labels, 1, 3)] = 1.0
    weights = []
    bound = _separation._combination_weight

    def spy(rows, sample):
        weights.append(bound(rows, sample))
        return weights[-1]

    monkeypatch.setattr(_separation, "_combination_weight", spy)
    sampled, rows, full = _verdicts(
        monkeypatch, _design(np.c_[features, faint]), _targets(labels, 2)
    )
    assert min(weights) > _separation.MAX_COMBINATION_WEIGHT
    assert sampled is full and rows >= N


def test_a_sample_whose_lp_breaks_ties_by_rounding_is_no_proof():
    # x1 has the class's sign and is 0 on 30% of the rows: e1 weakly separates every row
    # (quasi-complete separation). On the tied rows x2 is noise of 2e-9, which HiGHS used to
    # break ties with margins of both signs; those were read as "no separation" on the sample,
    # hence proof of overlap, and the separation warning was lost. (Ten outlier rows of x3 make
    # the sample's combination weights about 600, so its LP was asked for margins of 1e-9.)
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, N)
    tied = rng.random(N) < 0.3
    x1 = np.where(y == 1, rng.uniform(0.01, 1, N), -rng.uniform(0.01, 1, N))
    x1[tied] = 0.0
    x2 = (2 * y - 1) + 0.5 * rng.standard_normal(N)
    x2[tied] = 2e-9 * rng.standard_normal(tied.sum())
    x3 = 1.5e-3 * rng.standard_normal(N)
    x3[rng.choice(N, 10, replace=False)] = rng.choice([-1.0, 1.0], 10)
    margins = (2 * y - 1) * x1  # the separating direction, exactly
    assert margins.min() >= 0.0 and (margins > 0).sum() > N // 2
    A = _design(np.c_[x1, x2, x3])
    assert separating_direction_exists(A, y[:, None].astype(float), np.ones(N), intercept=True)


@pytest.mark.parametrize("intercept", [True, False])
def test_dense_and_sparse_designs_are_scaled_alike(features, intercept):
    # Dense designs are scaled as dense arrays (as sparse, the conversions took most of the
    # check): the same centring of the columns without zeros, the same units.
    X = 1e5 + 1e-3 * features
    X[::7, 1] = 0.0  # a column with zeros: not centred
    A = _design(X) if intercept else X
    dense = _separation._scaled(A, intercept)
    # (to the rounding of the centring: numpy's column means of 1e5 + 1e-3 x are 4e-7 of the
    # spread off, scipy's sums by column 1.5e-8)
    np.testing.assert_allclose(dense, _separation._scaled(sparse.csr_array(A), intercept).toarray(),
                               rtol=0, atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(np.abs(dense).max(axis=0), 1.0)
    if intercept:  # centred: no column is the ones column to 1e-8 any more
        np.testing.assert_allclose(dense[:, [0, 2, 3, 4]].mean(axis=0), 0.0, atol=1e-6)
        assert dense[:, 1].min() == 0.0
    np.testing.assert_array_equal(A, _design(X) if intercept else X)  # not modified


def _no_lp(*args):
    raise AssertionError("the LP ran")


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_a_separating_direction_given_proves_separation_without_the_lp(
    monkeypatch, features, n_classes, fmt
):
    W = np.random.default_rng(2).standard_normal((n_classes, D + 1))
    A = _design(features)
    labels = (A @ W.T).argmax(axis=1)
    Y = _targets(labels, n_classes)
    V = W[1:] - W[:1] if n_classes == 2 else W  # (two classes: the score of class 1 less 0's)
    A = A if fmt == "dense" else sparse.csr_array(A)
    with monkeypatch.context() as patch:
        patch.setattr(_separation, "_lp_margins", _no_lp)
        assert separating_direction_exists(A, Y, np.ones(N), intercept=True, direction=V)
    assert separating_direction_exists(A, Y, np.ones(N), intercept=True)  # the LP agrees


@pytest.mark.parametrize("n_classes", [2, 4])
def test_a_direction_that_misses_one_row_leaves_the_verdict_to_the_lp(features, n_classes):
    # Overlapping classes, and a direction that separates every row but one: no proof, and the
    # LP (samples, then all rows) says overlap.
    labels = _overlapping(features, n_classes)
    W = np.random.default_rng(4).standard_normal((n_classes, D + 1))
    A = _design(features)
    scores = A @ W.T
    fitted = scores.argmax(axis=1)
    fitted[0] = (fitted[0] + 1) % n_classes  # row 0's class is not its top score
    Y = _targets(fitted, n_classes)
    V = W[1:] - W[:1] if n_classes == 2 else W
    assert not _separation._separates(A, Y, V)
    Y = _targets(labels, n_classes)
    assert separating_direction_exists(A, Y, np.ones(N), intercept=True, direction=V) is False


def test_margins_of_the_rounding_size_are_no_proof():
    # 0.1 + 0.2 - 0.3 is 5.6e-17 in float64, positive, but within the rounding of its terms;
    # a margin of 1e-9 of the terms' size is not.
    A = np.array([[0.1, 0.2, -0.3]])
    assert not _separation._separates(A, np.ones((1, 1)), np.array([[1.0, 1.0, 1.0]]))
    assert _separation._separates(A, np.ones((1, 1)), np.array([[1.0, 1.0, 1.0 - 1e-8]]))
    assert not _separation._separates(A, np.zeros((1, 1)), np.array([[1.0, 1.0, 1.0]]))


def test_the_direction_of_a_class_of_zero_weight_is_dropped_with_it(monkeypatch, features):
    # With an intercept a class of total weight 0 leaves the question (its intercept goes to
    # -inf whatever the data); its row of the direction goes with its column of Y.
    W = np.random.default_rng(5).standard_normal((3, D + 1))
    A = _design(features)
    labels = (A @ W.T).argmax(axis=1)
    weights = np.where(labels == 1, 0.0, 1.0)
    V = W.copy()
    V[1] = 1e3  # (the empty class's row would break every margin against it)
    with monkeypatch.context() as patch:
        patch.setattr(_separation, "_lp_margins", _no_lp)
        assert separating_direction_exists(A, np.eye(3)[labels], weights, intercept=True,
                                           direction=V)  # fmt: skip


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_no_row_of_positive_weight_separates_nothing(features, fmt, n_classes):
    # (dense returned False or, for 3 classes with an intercept, an argmax error; sparse a
    # zero-size reduction error: fit cannot get here, a direct call could)
    A = _design(features[:50])
    A = A if fmt == "dense" else sparse.csr_array(A)
    Y = _targets(np.arange(50) % n_classes, n_classes)
    assert separating_direction_exists(A, Y, np.zeros(50), intercept=True) is False


def test_margins_of_subnormal_products_are_no_proof():
    # The rows' positive combination is 0 (no direction separates them), but with entries of
    # 1e-160 and a direction of 5e-324 / 1e-160 every product is subnormal, rounded by an
    # absolute 2.5e-324, and the relative bound underflowed to 0: "separable" (a review).
    base = np.array([[0.6, 0.6, -1.3], [0.6, -1.3, 0.6], [-1.3, 0.6, 0.6],
                     [0.6, 0.6, -1.1], [0.6, -1.1, 0.6], [-1.1, 0.6, 0.6]])  # fmt: skip
    A = base * 1e-160
    V = np.full((1, 3), 5e-324 / 1e-160)
    assert not _separation._separates(A, np.ones((6, 1)), V)
    assert separating_direction_exists(A, np.ones((6, 1)), np.ones(6), direction=V) is False
