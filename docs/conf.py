"""Sphinx configuration for the mlbasics documentation.

Build with (from the repository root)::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import os
import sys

# The package is normally installed in editable mode; the path makes a plain checkout work too.
sys.path.insert(0, os.path.abspath(".."))

import mlbasics

project = "mlbasics"
author = "The mlbasics developers"
copyright = "the mlbasics developers"
version = mlbasics.__version__
release = mlbasics.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]
# No sphinx.ext.intersphinx: the build must not touch the network.

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# -- autodoc / autosummary / numpydoc --------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False

# -- HTML ------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"mlbasics {release}"
html_theme_options = {
    "description": "Classical machine-learning solvers with a scikit-learn API and optimality certificates",
    "fixed_sidebar": True,
}
