"""Sphinx configuration of the gaga documentation.

Build (examples executed, warnings are errors)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

No extension fetches anything over the network: intersphinx is not enabled.
"""

import os
import sys
import warnings

from threadpoolctl import threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import gaga  # noqa: E402

# the gallery runs small dense problems: BLAS threads only slow it down on a busy
# 2-core machine (the re-basin pruning example: 26 s with threads, 5.5 s without)
threadpool_limits(limits=1, user_api="blas")

# -- Project -------------------------------------------------------------------------
project = "gaga"
author = "the gaga developers"
copyright = "2026, the gaga developers"
version = ".".join(gaga.__version__.split(".")[:2])
release = gaga.__version__

# -- General -------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "matplotlib.sphinxext.plot_directive",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# intersphinx is deliberately not enabled: the build must not use the network.
intersphinx_mapping = {}

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# matplotlib's plot directive (the v* figure of the user guide)
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]

# -- Gallery -------------------------------------------------------------------------
# Every example runs at each build (run_stale_examples); the slowest one takes well
# under a minute on a 2-core machine. To skip one, add it to ``ignore_pattern``.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "doc_module": ("gaga", "sklearn"),
    "reference_url": {"gaga": None},
    "run_stale_examples": True,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "plot_gallery": "True",
}

# matplotlib without a display, quiet about non-GUI backends
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)

# -- HTML ----------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"gaga {release}"
html_static_path = []
html_theme_options = {
    "description": "Exact age paths of self-paced learning",
    "fixed_sidebar": True,
}


# -- Members inherited from scikit-learn ---------------------------------------------
def _skip_sklearn_members(app, what, name, obj, skip, options):
    """Leave out what the estimators inherit from scikit-learn (``score``,
    ``get_params``, ``set_*_request`` ...): it is documented by scikit-learn and its
    docstrings point at labels of scikit-learn's own documentation."""
    module = getattr(obj, "__module__", None) or ""
    if module == "sklearn" or module.startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_members)
