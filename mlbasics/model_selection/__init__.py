"""Model selection: K-fold errors, paired comparisons of estimators, bias-variance decompositions.

Floor 2: imports scikit-learn, scipy, joblib and floor-1 modules only, never an mlbasics estimator,
so it judges scikit-learn's models exactly as it judges ours. Every loop runs through joblib, so
``joblib.parallel_config(backend="dask")`` spreads it over a Dask cluster, and reports its folds or
rounds to scikit-learn's callbacks (``callbacks=``, :mod:`sklearn.callback`) when asked to.
"""

from ._bias_variance import (
    BiasVarianceCurve,
    BiasVarianceResult,
    bias_variance_curve,
    bias_variance_decomposition,
    format_param_value,
    mse_decomposition,
    zero_one_decomposition,
)
from ._compare import ComparisonResult, compare_estimators
from ._kfold import KFoldResult, kfold_errors
from ._stats import (
    PAIRED_TESTS,
    TestResult,
    combined_ftest_5x2cv,
    corrected_resampled_ttest,
    holm_correction,
    mcnemar_test,
    paired_ttest_5x2cv,
)

__all__ = [
    "PAIRED_TESTS",
    "BiasVarianceCurve",
    "BiasVarianceResult",
    "ComparisonResult",
    "KFoldResult",
    "TestResult",
    "bias_variance_curve",
    "bias_variance_decomposition",
    "combined_ftest_5x2cv",
    "compare_estimators",
    "corrected_resampled_ttest",
    "format_param_value",
    "holm_correction",
    "kfold_errors",
    "mcnemar_test",
    "mse_decomposition",
    "paired_ttest_5x2cv",
    "zero_one_decomposition",
]
