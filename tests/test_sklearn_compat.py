"""scikit-learn's estimator checks over every public estimator and solver/penalty combination."""

import pytest
from sklearn.datasets import load_iris
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlbasics import SVC, LogisticRegression
from mlbasics.nn import MLPClassifier

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
    LogisticRegression(solver="sgd", random_state=0),
    LogisticRegression(solver="sgd", optimizer="adam", batch_size=16, random_state=0),
    LogisticRegression(solver="sgd", penalty="l1", random_state=0),
    LogisticRegression(solver="sgd", average=True, random_state=0),
    SVC(),
    SVC(loss="squared_hinge"),
    SVC(loss="logistic"),
    SVC(kernel="linear"),
    SVC(kernel="precomputed"),
    SVC(solver="qp"),
    SVC(decision_function_shape="ovo"),
]


SGD_REASON = (
    "stochastic: weight 2 on a sample is one update with twice the step, a repeated row is two "
    "updates at different times and rates, so the two fits differ by SGD's noise (the "
    "equivalence holds in expectation; tests/linear_model/test_sgd.py checks it exactly for "
    "full-batch descent). scikit-learn's SGDClassifier lists the same failure."
)


SAMPLE_WEIGHT_CHECKS = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
)

GAMMA_SCALE_REASON = (
    "gamma='scale' is 1 / (n_features * X.var()), and repeating rows changes X.var() while "
    "weighting them does not, so the two fits use different kernels: their decision values "
    "differ by up to about 1e-3 (8e-4 measured at tol=1e-10; scikit-learn's SVC lists the same "
    "failure)."
)

SMO_TOL_REASON = (
    "SMO stops at the default tol=1e-3 (the gap m - M), and the weighted and the repeated "
    "problems stop at different iterates: their decision values differ by up to a few 1e-4 (2e-4 "
    "measured for the linear kernel), above the check's rtol=1e-7. At tol=1e-10 they agree: "
    "tests/svm/test_svc.py::test_sample_weight_equals_repetition checks it."
)


def svc_sample_weight_reason(svc) -> str:
    """Why an SVC fails scikit-learn's weight-equals-repetition check ('' when it passes): the
    causes this configuration has (measured: SVC(kernel='linear') and the rbf kernel with a
    numeric gamma pass at tol=1e-10, solver='qp' with a numeric gamma at its default tol).
    scikit-learn does not run the check on kernel='precomputed' (a pairwise estimator)."""
    causes = []
    if svc.kernel != "linear" and svc.gamma == "scale":
        causes.append(GAMMA_SCALE_REASON)
    if svc.solver == "smo" and svc.tol > 1e-8:
        causes.append(SMO_TOL_REASON)
    return " ".join(causes)


OVO_REASON = (
    "decision_function_shape='ovo' gives one column per pair of classes, and with three classes "
    "the check reads its three columns as one score per class, whose argmax it expects to be "
    "the prediction (scikit-learn's own SVC with 'ovo' fails the same check)."
)


def expected_failed_checks(estimator):
    if isinstance(estimator, SVC):
        reason = svc_sample_weight_reason(estimator)
        failures = dict.fromkeys(SAMPLE_WEIGHT_CHECKS, reason) if reason else {}
        if estimator.decision_function_shape == "ovo":
            failures["check_classifiers_train"] = OVO_REASON
        return failures
    if getattr(estimator, "solver", None) == "sgd":
        return dict.fromkeys(SAMPLE_WEIGHT_CHECKS, SGD_REASON)
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator, name",
    [
        (LogisticRegression(C=10**400), "C"),
        (LogisticRegression(solver="sgd", eta0=10**400), "eta0"),
        (SVC(tol=10**400), "tol"),
        (SVC(kernel="poly", coef0=-(10**400)), "coef0"),
        (MLPClassifier(tol=10**400), "tol"),
    ],
)
def test_an_integer_parameter_beyond_float64_is_named(estimator, name):
    # scikit-learn's validation takes it as a real number; the first float() then raised a bare
    # "int too large to convert to float" (a review)
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=rf"^{name} is an integer of 401 digits, beyond"):
        estimator.fit(X, y)
