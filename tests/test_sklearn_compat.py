"""scikit-learn's estimator checks over every public estimator and solver/penalty combination."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from mlbasics import LogisticRegression

ESTIMATORS = [
    LogisticRegression(),  # newton: Cholesky for these small dense problems
    LogisticRegression(solver="newton-cg"),
    LogisticRegression(solver="newton-cholesky"),
    LogisticRegression(solver="lbfgs"),
    LogisticRegression(penalty=None),
    LogisticRegression(penalty=None, solver="newton-cg"),
    LogisticRegression(penalty=None, solver="lbfgs"),
    LogisticRegression(penalty="l1"),
    LogisticRegression(penalty="elasticnet", l1_ratio=0.5),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
