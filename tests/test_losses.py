"""The softmax functions of mlbasics.losses and their row reductions, against scipy; the squared
hinge beyond the float range; losses, residuals and curvatures at saturation against decimals."""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from mlbasics.losses import (
    ROW_MAX_COLUMN_LOOP,
    multinomial,
    multinomial_probabilities,
    row_max,
    row_sums,
    squared_hinge,
    squared_hinge_conjugate,
)


@pytest.mark.parametrize("n_columns", [1, 2, 10, ROW_MAX_COLUMN_LOOP, ROW_MAX_COLUMN_LOOP + 1, 50])
@pytest.mark.parametrize("order", ["C", "F"])
def test_row_reductions_are_numpys(n_columns, order):
    rng = np.random.default_rng(n_columns)
    S = np.asarray(rng.standard_normal((300, n_columns)) * 1e3, order=order)
    S[::7, -1] = S[::7].max(axis=1) + 1.0  # maxima in the last column too
    before = S.copy()
    assert np.array_equal(row_max(S), S.max(axis=1))
    np.testing.assert_allclose(row_sums(S), S.sum(axis=1), rtol=1e-12, atol=1e-9)
    assert np.array_equal(S, before)


def test_row_reductions_of_no_rows():
    S = np.empty((0, 4))
    assert row_max(S).shape == (0,) and row_sums(S).shape == (0,)


@pytest.mark.parametrize("n_classes", [3, 10, 40])
def test_softmax_functions_match_scipy_at_extreme_scores(n_classes):
    rng = np.random.default_rng(0)
    scale = np.repeat([1.0, 50.0, 800.0, 1e5], 50)[:, None]  # up to scores of several 1e5
    Z = rng.standard_normal((200, n_classes)) * scale
    Y = np.eye(n_classes)[rng.integers(0, n_classes, 200)]
    # underflow of exp to 0 is the right answer for a probability below 1e-308
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        P = multinomial_probabilities(Z)
        losses = multinomial(Z, Y)
    np.testing.assert_allclose(P, softmax(Z, axis=1), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(losses, logsumexp(Z, axis=1) - (Z * Y).sum(axis=1), rtol=1e-12,
                               atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("scores", [np.array([1.0, 2.0]), np.ones((3, 0)), np.ones((2, 2, 2))])
def test_softmax_functions_name_scores_that_are_not_a_matrix(scores):
    with pytest.raises(ValueError, match=r"scores must be a 2-D array .* got shape"):
        multinomial(scores, np.zeros_like(scores))
    with pytest.raises(ValueError, match=r"scores must be a 2-D array .* got shape"):
        multinomial_probabilities(scores)


def test_softmax_functions_take_nested_lists_and_check_the_one_hot_shape():
    assert multinomial([[0.0, 0.0]], [[1.0, 0.0]]) == pytest.approx([np.log(2.0)], rel=1e-15)
    np.testing.assert_allclose(multinomial_probabilities([[0.0, np.log(3.0)]]), [[0.25, 0.75]])
    with pytest.raises(ValueError, match=r"y_onehot must have the shape of scores \(2, 2\)"):
        multinomial(np.zeros((2, 2)), np.zeros((2, 3)))


def test_squared_hinge_and_its_conjugate_beyond_the_largest_float_are_inf_without_warnings():
    # (1 + 1e200)^2 and 1e400 / 4 exceed the largest float; -1e100 stays finite: 1e200 (1 + ...)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(squared_hinge(np.array([-1e200, 2.0])), [np.inf, 0.0])
        np.testing.assert_array_equal(squared_hinge_conjugate(np.array([-1e200])), [np.inf])
        assert squared_hinge(np.array([-1e100]))[0] == pytest.approx(1e200, rel=1e-15)
        assert squared_hinge_conjugate(np.array([-2e100]))[0] == pytest.approx(1e200, rel=1e-15)
        # (-inf: u^2 / 4 wins, the limit is inf; it was -inf + inf = NaN with a warning)
        np.testing.assert_array_equal(squared_hinge_conjugate(np.array([-np.inf])), [np.inf])


def test_softmax_of_scores_spanning_more_than_the_largest_float_without_warnings():
    # 1e308 - (-1e308) overflows: the entry is exp(-inf) = 0 and the loss of the low class inf,
    # the correctly rounded values; numpy warned "overflow encountered in subtract"
    scores = np.array([[1e308, -1e308], [1.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probabilities = multinomial_probabilities(scores)
        low = multinomial(scores, np.array([[0.0, 1.0], [0.0, 1.0]]))
        high = multinomial(scores, np.array([[1.0, 0.0], [1.0, 0.0]]))
    np.testing.assert_allclose(probabilities, [[1.0, 0.0], softmax([1.0, 2.0])], rtol=1e-15)
    assert low[0] == np.inf and high[0] == 0.0
    np.testing.assert_allclose([low[1], high[1]], logsumexp([1.0, 2.0]) - np.array([2.0, 1.0]))


# -- saturation: values of a sample classified with a large margin, against decimal arithmetic ---

#: Digits of the decimal references: enough for 1 + exp(-700) to keep exp(-700).
DIGITS = 400


def _decimal_softmax(row):
    """The softmax of one row of scores, in decimal arithmetic of DIGITS digits (not numpy)."""
    from decimal import Decimal, localcontext

    with localcontext() as context:
        context.prec = DIGITS
        exps = [Decimal(float(z)).exp() for z in row]
        total = sum(exps)
        return [e / total for e in exps], total


@pytest.mark.parametrize("margin", [5.0, 36.0, 40.0, 80.0, 700.0])
def test_saturated_losses_residuals_and_curvatures_keep_their_digits(margin):
    # Past a margin of about 37 a probability rounds to 1, and every quantity formed as 1 - p or
    # p - 1 (the loss log(1 + tiny), the label's residual, its curvature) came out 0; each is
    # now within a few ulps of its decimal value.
    from decimal import Decimal, localcontext

    from mlbasics.losses import (
        probability_residuals,
        probability_variances,
        softmax_jacobian_product,
    )

    scores = np.array([[margin, 0.0, -3.0], [0.5, margin - 1.0, 2.0]])
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    V = np.array([[1.0, -2.0, 0.5], [0.3, 2.0, -1.0]])
    loss = multinomial(scores, Y)
    residuals = probability_residuals(scores, Y)
    variances = probability_variances(scores)
    product = softmax_jacobian_product(multinomial_probabilities(scores), V)
    with localcontext() as context:
        context.prec = DIGITS
        for i, row in enumerate(scores):
            P, total = _decimal_softmax(row)
            label = int(np.argmax(Y[i]))
            expected_loss = float(total.ln() - Decimal(float(row[label])))
            assert loss[i] == pytest.approx(expected_loss, rel=1e-14, abs=0.0)
            for k in range(3):
                expected = float(P[k] - Decimal(float(Y[i, k])))
                assert residuals[i, k] == pytest.approx(expected, rel=1e-14, abs=0.0)
                assert variances[i, k] == pytest.approx(
                    float(P[k] * (1 - P[k])), rel=1e-14, abs=0.0
                )
            mean = sum(P[k] * Decimal(float(V[i, k])) for k in range(3))
            for k in range(3):
                expected = float(P[k] * (Decimal(float(V[i, k])) - mean))
                assert product[i, k] == pytest.approx(expected, rel=1e-12, abs=0.0)
    # one column: the sigmoid's residuals of both labels and its curvature
    z = np.array([[margin], [-margin]])
    for y in (1.0, 0.0):
        r = probability_residuals(z, np.full((2, 1), y))
        with localcontext() as context:
            context.prec = DIGITS
            for i in range(2):
                p = 1 / (1 + (-Decimal(float(z[i, 0]))).exp())
                assert r[i, 0] == pytest.approx(float(p - Decimal(y)), rel=1e-14, abs=0.0)
                curvature = float(p * (1 - p))
                assert probability_variances(z)[i, 0] == pytest.approx(
                    curvature, rel=1e-14, abs=0.0
                )


def test_probability_residuals_refuse_soft_targets():
    # the label's residual is formed from its sign; a target of 0.3 gave 0.188 where p - y is
    # 0.128 (a review): refused
    from mlbasics.losses import probability_residuals

    with pytest.raises(ValueError, match="targets must be 0 or 1"):
        probability_residuals(np.array([[0.5]]), np.array([[0.3]]))
    with pytest.raises(ValueError, match="targets must be 0 or 1"):
        probability_residuals(np.zeros((1, 3)), np.array([[0.5, 0.5, 0.0]]))
