"""Every cross-reference to mlbasics in the docs and docstrings names something that exists.

``sphinx-build -W`` (CI) fails on broken markup but not on a ``:func:`` pointing at a function that
was renamed or removed: without nitpicky mode Sphinx renders it as plain text, and nitpicky mode
also flags every private helper the API pages do not document and every external name (there is
no intersphinx). So this test resolves the targets itself, by import: the Sphinx roles
(``:func:``, ``:class:``, ``:meth:``, ``:attr:``, ``:data:``, ``:mod:``, ``:obj:``) in the theory
pages and in every module of the package, with full names (``mlbasics.svm._checks.x``), names
relative to the module whose docstring holds them (``._checks.x``, ``.LogisticRegression.fit``)
and bare names in a module's docstrings (``_gap_confirms``: one of that module's own).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|data|mod|obj):`([^`]+)`")


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


def _resolve(name: str) -> bool:
    """Whether ``name`` (dotted, absolute) is a module or an attribute chain from one. An
    attribute a class sets on its instances (``self.x = ...``) or declares (dataclass fields,
    annotations) counts."""
    parts = name.split(".")
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


def _declared_on_instances(cls: type, name: str) -> bool:
    for klass in cls.__mro__:
        if name in getattr(klass, "__annotations__", {}):
            return True
        module = importlib.import_module(klass.__module__)
        source = Path(module.__file__).read_text() if getattr(module, "__file__", None) else ""
        if re.search(rf"\bself\.{re.escape(name)}\s*=", source):
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


def _modules() -> list[str]:
    """Every module of the package, by name."""
    return [_module_of(path) for path in sorted((ROOT / "mlbasics").rglob("*.py"))]


def _classes_of(module: str) -> list[str]:
    """The classes defined in ``module``, by name."""
    namespace = vars(importlib.import_module(module))
    return [
        name
        for name, value in namespace.items()
        if isinstance(value, type) and value.__module__ == module
    ]


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


def _references():
    """``(where, role, candidates)`` of every mlbasics reference: the absolute names it may
    mean, in the order Sphinx tries them."""
    found = []
    pages = sorted((ROOT / "docs").glob("*.rst")) + sorted((ROOT / "docs" / "theory").glob("*.rst"))
    for page in pages:
        text = page.read_text()
        for match in ROLE.finditer(text):
            name = _target(match.group(2))
            number = text.count("\n", 0, match.start()) + 1
            if name.startswith("mlbasics."):
                found.append((f"{page.relative_to(ROOT)}:{number}", match.group(1), [name]))
            elif name.startswith(".") or name.startswith("mlbasics"):  # (split across lines)
                found.append((f"{page.relative_to(ROOT)}:{number}", match.group(1), [name]))
    for path in sorted((ROOT / "mlbasics").rglob("*.py")):
        module = _module_of(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node, classes in _documented(ast.parse(path.read_text())):
            for role, text in ROLE.findall(ast.get_docstring(node, clean=False)):
                name = _target(text)
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 1)}"
                if name.startswith("mlbasics."):
                    candidates = [name]
                elif name.startswith("."):
                    # Sphinx takes a leading dot as "any object whose name ends so"
                    candidates = [importlib.util.resolve_name(name, package)]
                    candidates += [f"{other}{name}" for other in _modules()]
                elif re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", name):
                    # as Sphinx looks a bare name up: in the enclosing classes, then the module
                    scopes = [".".join(classes[:k]) for k in range(len(classes), 0, -1)]
                    candidates = [f"{module}.{scope}.{name}" for scope in scopes]
                    candidates.append(f"{module}.{name}")
                    # (a method named from outside its class, "partial_fit" in a function the
                    # estimator calls, which Sphinx leaves unlinked: the name still exists)
                    candidates += [f"{module}.{cls}.{name}" for cls in _classes_of(module)]
                    if _foreign(name):
                        continue  # float, ValueError, numpy.ndarray, scipy.sparse: not ours
                else:
                    candidates = [name]  # split across lines, or malformed: reported
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
    ],
)
def test_the_resolver_tells_existing_names_from_missing_ones(name, exists):
    assert _resolve(name) is exists
