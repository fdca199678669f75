"""The documentation builds with its gallery executed and no warning (``-W``).

Runs ``sphinx-build -W --keep-going -b html docs <tmpdir>`` in a subprocess. Needs the
``doc`` extra (sphinx, sphinx-gallery, numpydoc, matplotlib; cvxpy and clarabel for the
certificates of the Lasso example); skipped when one of them is missing. About 1.5
minutes on a loaded 2-core machine (the gallery examples dominate).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_build(tmp_path):
    for name in ("sphinx", "sphinx_gallery", "numpydoc", "matplotlib", "cvxpy"):
        pytest.importorskip(name)
    if not (DOCS / "conf.py").exists():
        pytest.skip("no docs/ directory (installed package without sources)")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="")
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        str(DOCS),
        str(tmp_path / "html"),
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=DOCS.parent, timeout=900
    )
    log = proc.stdout[-4000:] + "\n" + proc.stderr[-8000:]
    assert proc.returncode == 0, f"sphinx-build failed:\n{log}"
    assert (tmp_path / "html" / "index.html").exists()
    assert (tmp_path / "html" / "auto_examples" / "plot_lasso_age_path.html").exists()
    assert (tmp_path / "html" / "generated" / "gaga.age_path_lasso.html").exists()
