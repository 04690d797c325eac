"""Sphinx extension: explorers that work in the static book, without a Python kernel.

A widget explorer redraws its figure by running Python, which a rendered HTML page cannot do. This
directive precomputes the figure for every point of a small grid of settings when the book is
built, writes them as PNGs under ``_build/html/_explorers/<name>/``, and renders one drop-down
menu per setting; a few lines of JavaScript show the picture of the chosen settings. Only the
picture on screen is downloaded, so the page stays light however large the grid.

In a Markdown cell of a chapter::

    ```{dlcourse-explorer} dlcourse.widgets:explorer_figure
    :grid: dlcourse.widgets:STATIC_GRID
    ```

``grid`` names a ``dict`` of setting -> list of values (the first value is shown first);
``function`` is called with one value of each setting as keyword arguments and returns a
matplotlib figure. The figures are drawn in parallel worker processes.
"""

from __future__ import annotations

import html
import itertools
import os
import re
from concurrent.futures import ProcessPoolExecutor
from importlib import import_module
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

__all__ = ["ExplorerDirective", "explorer_html", "load_object", "slug", "setup"]

FOLDER = "_explorers"
DPI = 60

SCRIPT = """<script>
(function () {
  const box = document.currentScript.previousElementSibling;
  const picture = box.querySelector('img');
  const menus = Array.from(box.querySelectorAll('select'));
  const show = () => {
    picture.src = box.dataset.base + menus.map(m => m.value).join('--') + '.png';
  };
  menus.forEach(m => m.addEventListener('change', show));
})();
</script>"""


def load_object(spec: str) -> Any:
    """The object named ``module:attribute``."""
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"{spec!r}: name an object as module:attribute")
    return getattr(import_module(module), name)


def slug(value: Any) -> str:
    """A file-name-safe form of one setting's value."""
    text = re.sub(r"[^A-Za-z0-9.]+", "_", str(value)).strip("_")
    return text or "x"


def _draw(function: str, settings: dict[str, Any], path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = load_object(function)(**settings)
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def explorer_html(name: str, grid: dict[str, list], base: str) -> str:
    """The menus, the first picture and the script, for pictures under the URL ``base``."""
    menus = []
    for setting, values in grid.items():
        options = "".join(
            f'<option value="{html.escape(slug(v))}">{html.escape(str(v))}</option>' for v in values
        )
        menus.append(f"<label>{html.escape(setting)} <select>{options}</select></label>")
    first = "--".join(slug(values[0]) for values in grid.values())
    alt = f"the {name} explorer's figure for the chosen settings"
    return (
        f'<div class="dlcourse-explorer" data-base="{html.escape(base)}">'
        f'<div class="dlcourse-explorer-menus">{" ".join(menus)}</div>'
        f'<img src="{html.escape(base + first)}.png" alt="{html.escape(alt)}" width="100%">'
        f"</div>{SCRIPT}"
    )


class ExplorerDirective(SphinxDirective):
    """``{dlcourse-explorer} module:function`` with ``:grid: module:GRID``."""

    required_arguments = 1
    option_spec = {"grid": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        """Draw the grid's missing pictures; return the menus and the first picture as raw HTML."""
        function = self.arguments[0]
        grid = load_object(self.options["grid"])
        if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
            raise self.error(f"{self.options['grid']} must be a dict of setting -> non-empty list")
        name = slug(function.replace(":", "."))
        folder = Path(self.env.app.outdir) / FOLDER / name
        folder.mkdir(parents=True, exist_ok=True)
        jobs = []
        for values in itertools.product(*grid.values()):
            path = folder / ("--".join(slug(v) for v in values) + ".png")
            if not path.exists():
                jobs.append((function, dict(zip(grid, values)), str(path)))
        if jobs:
            with ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
                list(pool.map(_draw, *zip(*jobs)))
        base = "../" * self.env.docname.count("/") + f"{FOLDER}/{name}/"
        self.env.note_dependency(__file__)
        html_text = explorer_html(name, grid, base)
        return [nodes.raw("", html_text, format="html")]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("dlcourse-explorer", ExplorerDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
