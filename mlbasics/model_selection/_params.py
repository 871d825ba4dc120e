"""Parameter validation of the public functions, which take estimators as arguments.

scikit-learn's ``validate_params`` decorator is not used as is, for two reasons:

* with ``prefer_skip_nested_validation=True`` the estimators fitted inside the function skip
  their own parameter validation, so ``DecisionTreeClassifier(max_depth=-1)`` would be fitted
  without an error; scikit-learn's own ``cross_validate`` passes False ("the estimator is not
  validated yet"), and so does this module, always;
* it catches every ``InvalidParameterError`` raised inside the function and rewrites "parameter
  of <name> must be" to the function's name, so that ``error_score="raise"`` with
  ``LogisticRegression(C=-1)`` would report "The 'C' parameter of kfold_errors must be ...".
  Here the estimator's error propagates untouched: it names the estimator.

The constraints are those of scikit-learn (:func:`validate_parameter_constraints`), with the
function's name in the message, and are kept on the function as ``_skl_parameter_constraints``
as the decorator does.

The wrapper is one more frame between the user's call and the function, so a fixed ``stacklevel``
would attribute a warning to the wrong line: :func:`mlbasics._validation.warn_at_caller` finds the
user's frame instead.
"""

from __future__ import annotations

import functools
from inspect import signature

from sklearn import get_config
from sklearn.utils._param_validation import validate_parameter_constraints


def validate_params(parameter_constraints):
    """Check the arguments of the decorated function against ``parameter_constraints``."""

    def decorator(func):
        func._skl_parameter_constraints = parameter_constraints
        func_sig = signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if not get_config()["skip_parameter_validation"]:
                bound = func_sig.bind(*args, **kwargs)
                bound.apply_defaults()
                validate_parameter_constraints(
                    parameter_constraints, dict(bound.arguments), caller_name=func.__qualname__
                )
            return func(*args, **kwargs)

        return wrapper

    return decorator
