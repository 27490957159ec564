"""Helpers for picture tests: golden SVGs (normalized, exact) and golden PNGs (compared with a tolerance),
figure lookups by gid."""

import os
import re
from pathlib import Path

import matplotlib
import pytest
from matplotlib.testing.compare import compare_images
from matplotlib.testing.exceptions import ImageComparisonFailure

from calcml import viz

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CALCML_UPDATE_GOLDEN") == "1"


def normalize_svg(text: str) -> str:
    """Ids renamed in order of appearance, metadata dropped: what is left is the drawing itself."""
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    names: dict[str, str] = {}

    def rename(match: re.Match) -> str:
        name = names.setdefault(match.group(2), f"id{len(names)}")
        return f"{match.group(1)}{name}"

    return re.sub(r'(id="|url\(#|href="#)([^")]+)', rename, text)


def by_gid(ax, gid: str):
    for artist in [*ax.lines, *ax.collections]:
        if artist.get_gid() == gid:
            return artist
    for container in ax.containers:  # bar containers carry their name as a label
        if container.get_label() == gid:
            return container
    raise AssertionError(f"no artist with gid {gid!r}")


@pytest.fixture
def golden():
    """compare(name, svg): the normalized SVG must equal tests/viz/golden/<name>.svg (written when
    CALCML_UPDATE_GOLDEN=1). Matplotlib output is tied to its version: goldens made with another minor
    version are skipped, not compared."""
    version = ".".join(matplotlib.__version__.split(".")[:2])

    def compare(name: str, svg: str, depends_on_matplotlib: bool = True) -> None:
        path = GOLDEN / f"{name}.svg"
        stamp = GOLDEN / "MATPLOTLIB_VERSION"
        if UPDATE:
            path.write_text(normalize_svg(svg), encoding="utf-8")
            stamp.write_text(version + "\n")
            return
        if depends_on_matplotlib and stamp.read_text().strip() != version:
            pytest.skip(f"golden SVGs were made with matplotlib {stamp.read_text().strip()}, this is {version}: "
                        "regenerate with CALCML_UPDATE_GOLDEN=1")
        assert normalize_svg(svg) == path.read_text(encoding="utf-8"), f"{name} differs from its golden SVG"

    return compare


PNG_TOLERANCE = 2.0  # RMS difference on 0–255: font hinting moves a little; a lost legend moves far more


def png_difference(figure, golden_path: Path, out_dir: Path) -> float:
    """The RMS difference (0–255) between ``figure`` drawn as PNG and the golden PNG at ``golden_path``."""
    actual = viz.save(figure, out_dir / f"{golden_path.stem}-actual.png")
    try:
        result = compare_images(str(golden_path), str(actual), tol=0, in_decorator=True)
    except ImageComparisonFailure:  # another size: nothing lines up
        return float("inf")
    return 0.0 if result is None else float(result["rms"])


@pytest.fixture
def golden_png(tmp_path):
    """compare(name, figure): the figure drawn as PNG must match tests/viz/golden/<name>.png within
    PNG_TOLERANCE (written when CALCML_UPDATE_GOLDEN=1; review a rewritten golden by eye before committing).
    Goldens made with another matplotlib minor version are skipped, like the SVGs."""
    version = ".".join(matplotlib.__version__.split(".")[:2])

    def compare(name: str, figure) -> None:
        path = GOLDEN / f"{name}.png"
        if UPDATE:
            viz.save(figure, path)
            return
        stamp = (GOLDEN / "MATPLOTLIB_VERSION").read_text().strip()
        if stamp != version:
            pytest.skip(f"golden PNGs were made with matplotlib {stamp}, this is {version}")
        rms = png_difference(figure, path, tmp_path)
        assert rms <= PNG_TOLERANCE, f"{name} differs from its golden PNG: RMS {rms:.2f} > {PNG_TOLERANCE}"

    return compare
