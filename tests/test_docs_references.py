"""Every cross-reference to mlbasics in the docs and docstrings names something that exists.

``sphinx-build -W`` (CI) fails on broken markup but not on a ``:func:`` pointing at a function that
was renamed or removed: without nitpicky mode Sphinx renders it as plain text, and nitpicky mode
also flags every private helper the API pages do not document and every external name (there is
no intersphinx). So this test resolves the targets itself, by import: the Sphinx roles
(``:func:``, ``:class:``, ``:meth:``, ``:attr:``, ``:data:``, ``:mod:``, ``:obj:``) in the theory
pages and in every module of the package: full names (``mlbasics.svm._checks.x``), names with a
leading dot (Sphinx's "any object whose name ends so": ``._checks.x``), and bare names, looked up
as Sphinx does in the enclosing classes and the module of a docstring, or in the module a page
names with ``currentmodule``, ``py:module`` or ``automodule`` (``newton_smooth`` in api.rst).
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import importlib.util
import inspect
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|data|const|exc|mod|obj):`([^`]+)`")


def _target(text: str) -> str:
    """The name a role points at: ``~`` dropped, ``title <target>`` reduced to the target."""
    explicit = re.search(r"<([^>]+)>$", text)
    name = explicit.group(1) if explicit else text
    return name.lstrip("~!").strip().removesuffix("()")


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def _resolve(name: str) -> bool:
    """Whether ``name`` (dotted, absolute) is a module or an attribute chain from one. An
    attribute a class sets on its instances (``self.x = ...``) or declares (dataclass fields,
    annotations) counts."""
    parts = name.split(".")
    if not all(parts):
        return False  # (".x", "a..b")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for index, part in enumerate(parts[cut:], start=cut):
            if hasattr(obj, part):
                obj = getattr(obj, part)
            elif isinstance(obj, type) and _declared_on_instances(obj, part):
                return index == len(parts) - 1
            else:
                return False
        return True
    return False


@functools.cache
def _declared_on_instances(cls: type, name: str) -> bool:
    """Whether instances of ``cls`` (one of ours) carry ``name``: an annotation, an assignment
    ``self.name = ...`` in the code of the class or of a base class of ours, or an entry of a
    numpydoc ``Attributes`` section (fitted attributes set from a dict: ``coef_``)."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("mlbasics"):
            continue  # (scikit-learn's docstrings show "self.labels_ = ..." in examples)
        if name in getattr(klass, "__annotations__", {}):
            return True
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign | ast.AugAssign):
                targets = [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if (
                        isinstance(part, ast.Attribute)
                        and part.attr == name
                        and isinstance(part.value, ast.Name)
                        and part.value.id == "self"
                    ):
                        return True
        documented = re.search(
            r"\n\s*Attributes\n\s*-+\n(.*?)(\n\s*\n\s*[A-Z][A-Za-z ]+\n\s*-{3,}\n|$)",
            klass.__doc__ or "",
            flags=re.S,
        )  # (up to the next section: "See Also", "Notes", ...)
        if documented and re.search(rf"^\s*{re.escape(name)} :", documented.group(1), flags=re.M):
            return True
    return False


def _foreign(name: str) -> bool:
    """Whether a bare name is Python's or another package's (``float``, ``numpy.ndarray``)."""
    head = name.split(".")[0]
    if hasattr(builtins, head):
        return True
    if "." not in name or head == "mlbasics":
        return False
    try:
        importlib.import_module(head)
    except ImportError:
        return False
    return True


@functools.cache
def _modules() -> tuple[str, ...]:
    """Every module of the package, by name."""
    return tuple(_module_of(path) for path in sorted((ROOT / "mlbasics").rglob("*.py")))


@functools.cache
def _classes_of(module: str) -> tuple[str, ...]:
    """The classes defined in ``module``, by name."""
    namespace = vars(importlib.import_module(module))
    return tuple(
        name
        for name, value in namespace.items()
        if isinstance(value, type) and value.__module__ == module
    )


def _documented(tree):
    """``(node, enclosing class names)`` of the module, classes and functions with a docstring."""
    stack = [(tree, [])]
    while stack:
        node, classes = stack.pop()
        if ast.get_docstring(node, clean=False):
            yield node, classes
        inner = [*classes, node.name] if isinstance(node, ast.ClassDef) else classes
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                stack.append((child, inner))


def _candidates(name: str, module: str | None, classes=()) -> list[str] | None:
    """The absolute names a role's target may mean, in the order Sphinx tries them, from a
    docstring of ``module`` inside ``classes`` (or a page whose current module is ``module``);
    None for a name that is not ours (``float``, ``numpy.ndarray``) or cannot be placed."""
    if name.startswith("mlbasics."):
        return [name]
    if name.startswith("."):  # Sphinx: in the enclosing classes and module, else any suffix
        local = [f"{module}.{'.'.join(classes[:k])}{name}" for k in range(len(classes), 0, -1)]
        local += [f"{module}{name}"] if module else []
        suffixes = [f"{other}{name}" for other in _modules()]
        suffixes += [f"{other}.{cls}{name}" for other in _modules() for cls in _classes_of(other)]
        return local + suffixes
    if not re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", name):
        return [name]  # split across lines, or malformed: reported as it is
    if module is None:
        return None  # a bare name on a page without a current module: Sphinx's to judge
    scopes = [".".join(classes[:k]) for k in range(len(classes), 0, -1)]
    found = [f"{module}.{scope}.{name}" for scope in scopes] + [f"{module}.{name}"]
    # (a method named from outside its class, "partial_fit" in a function the estimator calls,
    # which Sphinx leaves unlinked: the name still exists)
    found += [f"{module}.{cls}.{name}" for cls in _classes_of(module)]
    if not any(_resolve(candidate) for candidate in found) and _foreign(name):
        return None
    return found


#: The directives that set the module of the bare names after them on a page.
MODULE_DIRECTIVE = re.compile(r"^\.\. (?:py:)?(?:currentmodule|module|automodule):: *(\S+)", re.M)


def _references():
    """``(where, role, candidates)`` of every reference to mlbasics in the pages (``docs``,
    ``docs/theory``) and in the docstrings of the package."""
    found = []
    pages = sorted((ROOT / "docs").glob("*.rst")) + sorted((ROOT / "docs" / "theory").glob("*.rst"))
    for page in pages:
        text = page.read_text()
        directives = [(m.start(), m.group(1)) for m in MODULE_DIRECTIVE.finditer(text)]
        for match in ROLE.finditer(text):
            current = [module for start, module in directives if start < match.start()]
            module = current[-1] if current and current[-1] != "None" else None
            candidates = _candidates(_target(match.group(2)), module)
            if candidates is not None:
                number = text.count("\n", 0, match.start()) + 1
                found.append((f"{page.relative_to(ROOT)}:{number}", match.group(1), candidates))
    for path in sorted((ROOT / "mlbasics").rglob("*.py")):
        module = _module_of(path)
        for node, classes in _documented(ast.parse(path.read_text())):
            for role, text in ROLE.findall(ast.get_docstring(node, clean=False)):
                candidates = _candidates(_target(text), module, classes)
                if candidates is not None:
                    where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 1)}"
                    found.append((where, role, candidates))
    return found


def test_references_are_found():
    # the scan itself works: the pages and docstrings hold hundreds of references
    assert len(_references()) > 300


def test_every_reference_to_mlbasics_resolves():
    broken = [
        f"{where}: :{role}:`{candidates[-1]}`"
        for where, role, candidates in _references()
        if not any(_resolve(name) for name in candidates)
    ]
    assert not broken, "references to names that do not exist:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    "name, exists",
    [
        ("mlbasics.svm._checks.sparse_rbf_rounding", True),
        ("mlbasics.svm._checks.sparse_rbf_offset_ratio", False),  # removed in ff487ee
        ("mlbasics.LogisticRegression.fit", True),
        ("mlbasics.LogisticRegression.no_such_method", False),
        ("mlbasics.optimality", True),
        # fitted attributes: documented (set from a dict in fit), or assigned to self
        ("mlbasics.SVC.dual_coef_", True),
        ("mlbasics.LogisticRegression.coef_", True),
        ("mlbasics.LogisticRegression.duality_gap_", True),
        # scikit-learn's docstrings show "self.labels_ = ..." in examples: not ours
        ("mlbasics.SVC.labels_", False),
        ("mlbasics.LogisticRegression.is_fitted_", False),
        (".no_such_name", False),
        # the Attributes section ends at the next section ("See Also" named Nesterov)
        ("mlbasics.optim.Momentum.Nesterov", False),
    ],
)
def test_the_resolver_tells_existing_names_from_missing_ones(name, exists):
    assert _resolve(name) is exists


def test_bare_names_are_looked_up_where_sphinx_looks():
    # on a page after ".. currentmodule:: mlbasics.linear_model._newton", or in a docstring of
    # that module: a misspelt name is reported (its candidates resolve nowhere)
    module = "mlbasics.linear_model._newton"
    assert any(_resolve(name) for name in _candidates("newton_smooth", module))
    assert not any(_resolve(name) for name in _candidates("newton_smoooth", module))
    # a method named inside its class, a leading-dot suffix, Python's own names
    assert any(_resolve(n) for n in _candidates("fit", "mlbasics.svm._classes", ["SVC"]))
    assert any(_resolve(n) for n in _candidates(".LogisticObjective.optimality", None))
    assert not any(_resolve(n) for n in _candidates(".LogisticObjective.no_such", None))
    assert _candidates("ValueError", module) is None
    # a leading dot in a class's docstring: that class's own method first, as Sphinx does
    assert _resolve(_candidates(".fit", "mlbasics.svm._classes", ["SVC"])[0])
    # ... and outside it, a method found by its suffix anywhere (Sphinx's search)
    assert any(_resolve(n) for n in _candidates(".blocks", "mlbasics.svm._checks"))
    assert ROLE.findall(":exc:`ValueError` and :const:`~mlbasics.svm._checks.SPARSE_RBF_ROWS`")
    # a bare name on a page with no current module is left to Sphinx
    assert _candidates("newton_smooth", None) is None
    pages = [where for where, _, names in _references() if where.startswith("docs/api.rst")]
    assert len(pages) > 10  # api.rst's bare names under its currentmodule are collected
