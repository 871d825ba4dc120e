"""The layout the architecture asks of the SVM package: modules that import each other without a
cycle, and solvers that print nothing (their progress goes to the ``log`` the estimator hands
them)."""

import ast
from graphlib import TopologicalSorter
from pathlib import Path

import pytest

import mlbasics.svm

PACKAGE = Path(mlbasics.svm.__file__).parent
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py"))


def syntax_tree(module):
    return ast.parse((PACKAGE / f"{module}.py").read_text())


def test_the_modules_import_each_other_without_a_cycle():
    """Every import between the package's modules counts, those inside functions included (a
    function-level import is how a cycle hides)."""
    graph = {}
    for module in MODULES:
        imported = set()
        for node in ast.walk(syntax_tree(module)):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                imported.update([node.module] if node.module else [a.name for a in node.names])
        graph[module] = imported
    assert graph["_smo"] >= {"_batched", "_dual"}  # the dispatch, and the shared pieces
    assert "_smo" not in graph["_batched"] | graph["_dual"]
    order = list(TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    assert order.index("_dual") < order.index("_batched") < order.index("_smo")


@pytest.mark.parametrize("module", MODULES)
def test_no_module_prints(module):
    """``SVC`` passes ``print`` as the solvers' ``log`` when ``verbose``; nothing calls it here."""
    calls = [
        node.lineno
        for node in ast.walk(syntax_tree(module))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"
    ]
    assert calls == []


def test_the_solver_and_the_certificate_saturate_the_logistic_dual_alike():
    # written twice on purpose: numba caches the SMO kernels by their own file's text, so the
    # solver's constant cannot be imported from the certificate; a change to one must be made
    # to both
    from mlbasics.optimality._svm import LOGISTIC_SATURATION
    from mlbasics.svm._smo_kernels import LOGISTIC_EPS

    assert LOGISTIC_EPS == LOGISTIC_SATURATION
