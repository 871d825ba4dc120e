"""scikit-learn's estimator checks over every public estimator and solver/penalty combination."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from mlbasics import LogisticRegression

ESTIMATORS = [
    LogisticRegression(),  # newton: Cholesky for these small dense problems
    LogisticRegression(solver="newton-cg"),
    LogisticRegression(solver="newton-cholesky"),
    LogisticRegression(solver="lbfgs"),
    LogisticRegression(penalty=None),
    LogisticRegression(penalty="l1"),
    LogisticRegression(penalty="elasticnet", l1_ratio=0.5),
]


def expected_failures(estimator):
    """Checks that cannot pass, each with its reason."""
    if estimator.penalty is None:
        return {
            "check_sample_weight_equivalence_on_dense_data": (
                "the check's data (15 samples, 30 features) are linearly separable: with no "
                "penalty the optimum is at infinity, so the two fits stop at different finite "
                "points (and warn that the data are separable)"
            ),
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
