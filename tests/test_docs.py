"""The documentation site builds with ``mkdocs build --strict``: no broken link or cross-reference, and no public
name without a docstring (docs/hooks.py turns each missing one into a warning, which --strict makes an error).

The build draws one gallery picture (chapter 10's example, a few seconds) to check that figures reach the pages;
the whole gallery is drawn by a plain ``mkdocs build``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]')")
pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (pip install -e '.[docs]')")


def test_site_builds_strictly_with_a_gallery_picture(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "CALCML_DOCS_FIGURES": "10", "CALCML_DOCS_CACHE": str(tmp_path / "cache"),
           "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    chapter = (site / "chapters" / "10-losses-and-their-derivatives" / "index.html").read_text()
    assert "figures/losses_and_their_derivatives.png" in chapter
    assert (site / "figures" / "losses_and_their_derivatives.png").stat().st_size > 1000
    assert (site / "examples" / "ch10_losses_and_their_derivatives.py").exists()
    # a chapter whose picture was not drawn says how to get it instead of linking to nothing
    assert "CALCML_DOCS_FIGURES=all" in (site / "chapters" / "01-limits-and-continuity" / "index.html").read_text()

    reference = (site / "api" / "autodiff" / "index.html").read_text()
    for name in ("calcml.autodiff.grad", "calcml.autodiff.vmap", "calcml.autodiff.custom_vjp",
                 "calcml.autodiff.checkpoint", "calcml.autodiff.Tensor"):
        assert f'id="{name}"' in reference, name
    assert "&gt;&gt;&gt;" in reference and "<blockquote>" not in reference  # examples are code, not quotes
    assert not (site / "api" / "curvature").exists()  # documented once, on its own page
    assert 'id="calcml.curvature.hessian_eigs"' in (site / "curvature" / "index.html").read_text()


@pytest.fixture
def hooks():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks
    finally:
        sys.path.remove(str(ROOT / "docs"))
    return hooks


def test_a_public_name_without_a_docstring_is_reported(monkeypatch, hooks):
    assert hooks.undocumented() == []

    import calcml.optim

    def bare(self):
        return None

    class Undocumented(calcml.optim.Optimizer):
        pass

    Undocumented.__doc__ = None
    Undocumented.__qualname__ = "Undocumented"
    Undocumented.__module__ = "calcml.optim.undocumented"
    Undocumented.extra = bare
    bare.__qualname__ = "Undocumented.extra"
    monkeypatch.setattr(calcml.optim, "Undocumented", Undocumented, raising=False)
    monkeypatch.setattr(calcml.optim, "__all__", [*calcml.optim.__all__, "Undocumented"])
    assert hooks.undocumented() == ["calcml.optim.Undocumented", "calcml.optim.Undocumented.extra"]


def test_a_module_documented_outside_api_gets_no_second_page(monkeypatch, hooks):
    monkeypatch.setattr(hooks, "_extra_pages", {})
    config = {"docs_dir": str(ROOT / "docs"), "nav": [{"The book": []}, {"API reference": ["api/index.md"]}]}
    hooks.on_config(config)
    made = dict(hooks._extra_pages)
    assert "calcml.curvature" in hooks.public_modules() and "calcml.sensitivity" in hooks.public_modules()
    assert "calcml.curvature" not in made.values() and "calcml.sensitivity" not in made.values()  # docs/*.md have them
    assert made == {"api/sweep.md": "calcml.sweep"}  # a public module with no page anywhere still gets one
    reference = next(section["API reference"] for section in config["nav"] if "API reference" in section)
    assert reference == ["api/index.md", "api/sweep.md"]


def test_readme_links_the_design_page_inside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "../shared/DESIGN.md" not in readme
    assert "docs/design.md" in readme and (ROOT / "docs" / "design.md").exists()
