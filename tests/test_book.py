"""The rendered book: built from clean with warnings as errors, and read offline in a real browser.

The book is built once per test session, with the command a maintainer runs (`make book`), into a
temporary folder, from the outputs stored in the notebooks (`execute_notebooks: off`; strict nbval
proves those equal a fresh run). Then every built page (each page listed in `_toc.yml`: chapters,
API reference, bibliography; and the pages Sphinx adds: index, search) is opened in headless
Chromium from disk (file:// URLs, as a reader opens `_build/html/index.html`), and the test checks
what a reader sees: math typeset by MathJax and no raw TeX, every image loaded, saved widgets
drawn, every internal link and anchor resolving, and no request leaving the machine. A screenshot of
each page is saved under `_build/screenshots/` in the repository; its path is printed.

Slow (builds the book): `pytest -m slow tests/test_book.py -s` runs these alone.
Chromium is the Debian package (`make browser`); without it these tests fail, they never skip.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 600  # under a minute from stored outputs; room for 2 busy cores
PAGE_TIMEOUT_MS = 60_000  # MathJax, RequireJS and the widget manager load from disk
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
SCREENSHOTS = ROOT / "_build" / "screenshots"
REDIRECT = re.compile(r'<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"', re.IGNORECASE)
# Pages Sphinx writes besides the documents of _toc.yml (index.html redirects to the intro).
GENERATED_PAGES = ["index", "genindex", "search", "py-modindex"]

pytestmark = pytest.mark.slow


# -- the table of contents --------------------------------------------------------------------


def toc_docnames(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document in a Jupyter Book 1 `_toc.yml` (root first), as `book/intro` names."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk([{k: v for k, v in toc.items() if k in ("parts", "chapters", "sections")}])
    return [str(Path(name).with_suffix("")) for name in names]


def html_name(docname: str) -> str:
    return f"{docname}.html"


DOCNAMES = toc_docnames()
PAGES = DOCNAMES + GENERATED_PAGES


# -- building the book once -----------------------------------------------------------------------


@dataclasses.dataclass
class Book:
    html: Path  # the built site, `<tmp>/_build/html`
    log: str
    seconds: float


def jupyter_book_cmd(source: Path, output: Path) -> list[str]:
    """The real build command: `jupyter-book build --all -W -n --keep-going` from the venv."""
    exe = Path(sys.executable).parent / "jupyter-book"  # not resolved: keep the venv's bin/
    if not exe.exists():
        exe = ROOT / ".venv" / "bin" / "jupyter-book"
    if not exe.exists():
        pytest.fail(
            "jupyter-book is not installed next to this Python: run `make install`", pytrace=False
        )
    return [
        str(exe),
        "build",
        "--all",
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(output),
        str(source),
    ]


def run_build(source: Path, output: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ)
    # Chapters run in the venv's kernel whatever the caller's PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    start = time.perf_counter()
    proc = subprocess.run(
        jupyter_book_cmd(source, output),
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    return proc, time.perf_counter() - start


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    out = tmp_path_factory.mktemp("book")
    proc, seconds = run_build(ROOT, out)
    log = proc.stdout + proc.stderr
    (out / "build.log").write_text(log, encoding="utf-8")
    if proc.returncode != 0:
        pytest.fail(
            f"`jupyter-book build` failed (exit {proc.returncode}) after {seconds:.0f} s; "
            f"full log: {out / 'build.log'}\n--- last lines ---\n{tail(log)}",
            pytrace=False,
        )
    print(f"\nbook built from clean in {seconds:.1f} s into {out / '_build' / 'html'}")
    return Book(html=out / "_build" / "html", log=log, seconds=seconds)


def test_book_builds_with_warnings_as_errors(book: Book) -> None:
    assert "build succeeded" in book.log, tail(book.log)
    assert (book.html / "index.html").is_file()


def test_every_toc_page_is_built(book: Book) -> None:
    missing = [html_name(d) for d in DOCNAMES if not (book.html / html_name(d)).is_file()]
    assert not missing, f"pages listed in _toc.yml but not built: {missing}"


def test_the_browser_tests_cover_every_built_page(book: Book) -> None:
    """Each built page is one of PAGES, so test_page_renders_offline_in_chromium opens it."""
    built = {str(page.relative_to(book.html).with_suffix("")) for page in built_pages(book)}
    assert built == set(PAGES), (
        f"built but never opened in Chromium: {sorted(built - set(PAGES))}; "
        f"expected but not built: {sorted(set(PAGES) - built)} (see GENERATED_PAGES)"
    )


def test_the_api_reference_links_docstring_pointers_to_chapters(book: Book) -> None:
    """A docstring's "See the book: Weight initialization" becomes a link to that chapter."""
    page = (book.html / "book" / "api" / "init.html").read_text(encoding="utf-8")
    assert 'See the book: <a class="reference internal" href="../initialization.html">' in page


def test_chapters_offer_launch_and_download_links(book: Book) -> None:
    """Colab, Binder and the .ipynb download on every chapter: plain links, the notebook shipped."""
    for docname in DOCNAMES:
        source = ROOT / f"{docname}.ipynb"
        if not source.is_file():
            continue
        page = (book.html / html_name(docname)).read_text(encoding="utf-8")
        for needle in ("https://colab.research.google.com/github/", "https://mybinder.org/v2/gh/"):
            assert needle in page and f"{docname}.ipynb" in page, f"{docname}: no {needle} link"
        shipped = book.html / "_sources" / f"{docname}.ipynb"
        assert shipped.read_bytes() == source.read_bytes(), (
            f"{docname}: the download is not the stored notebook"
        )


def notebook(*cells: dict) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# A chapter"}, *cells],
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def code_cell(source: str, count: int | None, outputs: list[dict]) -> dict:
    return {
        "cell_type": "code",
        "metadata": {},
        "execution_count": count,
        "outputs": outputs,
        "source": source,
    }


def small_book(src: Path, chapters: dict[str, str]) -> Path:
    """A book with the project's own _config.yml, extension and bibliography, and these chapters."""
    (src / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", src / "_config.yml")
    shutil.copy(ROOT / "book" / "references.bib", src / "book" / "references.bib")
    (src / "_ext").symlink_to(ROOT / "_ext")
    (src / "node_modules").symlink_to(
        ROOT / "node_modules"
    )  # the vendored scripts (html_extra_path)
    toc = "format: jb-book\nroot: book/intro\nchapters:\n" + "".join(
        f"  - file: book/{n}\n" for n in chapters
    )
    (src / "_toc.yml").write_text(toc)
    (src / "book" / "intro.md").write_text("# Intro\n\nA page.\n")
    for name, text in chapters.items():
        (src / "book" / f"{name}.ipynb").write_text(text)
    return src


STORED = {"output_type": "stream", "name": "stdout", "text": "stored output 4242\n"}


def test_chapters_are_rendered_from_stored_outputs_which_must_be_complete(tmp_path: Path) -> None:
    """Execution is off: stored outputs are shown, and gaps or stored errors fail the build (-W).

    One small build (with --keep-going every page is still written): `stored` raises if run but
    holds a good stored output; `unexecuted` never ran; `failed` stored an error; `allowed` stored
    an error in a cell tagged raises-exception.
    """
    error = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "", "traceback": []}
    chapters = {
        "stored": notebook(code_cell("raise RuntimeError('this cell must not run')", 1, [STORED])),
        "unexecuted": notebook(code_cell("x = 1", None, [])),
        "failed": notebook(code_cell("1 / 0", 1, [error])),
        "allowed": notebook(
            {**code_cell("1 / 0", 1, [error]), "metadata": {"tags": ["raises-exception"]}}
        ),
    }
    proc, _ = run_build(small_book(tmp_path / "src", chapters), tmp_path / "out")
    log = proc.stdout + proc.stderr
    warned = {
        name
        for name in chapters
        for line in log.splitlines()
        if f"book/{name}" in line and "WARNING" in line
    }
    assert proc.returncode != 0, f"incomplete stored outputs did not fail the build:\n{tail(log)}"
    assert warned == {"unexecuted", "failed"}, f"warnings for {warned}:\n{tail(log)}"
    assert "code cell 1 has no stored outputs" in log, tail(log)
    assert "code cell 1 stored an error: ZeroDivisionError" in log, tail(log)
    page = tmp_path / "out" / "_build" / "html" / "book" / "stored.html"
    assert "stored output 4242" in page.read_text(encoding="utf-8"), (
        "the stored output is not shown"
    )
    assert "RuntimeError" not in log, "a chapter was executed at build time"


# -- the HTML works offline ------------------------------------------------------------------------


class AssetParser(HTMLParser):
    """Collects (tag, attribute, url) for every <script src>, <link href> and <img src>."""

    WANTED = {"script": "src", "link": "href", "img": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = self.WANTED.get(tag)
        for name, value in attrs:
            if name == attr and value:
                self.assets.append((tag, attr, value))


def page_assets(page: Path) -> list[tuple[str, str, str]]:
    parser = AssetParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.assets


def built_pages(book: Book) -> list[Path]:
    return sorted(
        p for p in book.html.rglob("*.html") if "_static" not in p.relative_to(book.html).parts
    )


def is_remote(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme not in ("", *LOCAL_SCHEMES)


def test_no_page_loads_assets_from_the_network(book: Book) -> None:
    remote = [
        f"{page.relative_to(book.html)}: <{tag} {attr}={url!r}>"
        for page in built_pages(book)
        for tag, attr, url in page_assets(page)
        if is_remote(url)
    ]
    assert not remote, "the book must work offline; vendor these instead:\n" + "\n".join(remote)


def test_every_local_asset_exists(book: Book) -> None:
    missing = []
    for page in built_pages(book):
        for tag, attr, url in page_assets(page):
            parts = urlsplit(url)
            if parts.scheme or not parts.path or tag == "link" and url.endswith(".html"):
                continue
            if not (page.parent / unquote(parts.path)).resolve().exists():
                missing.append(f"{page.relative_to(book.html)}: <{tag} {attr}={url!r}>")
    assert not missing, "missing files (is the vendoring done? `make install`):\n" + "\n".join(
        missing
    )


class LinkParser(HTMLParser):
    """Collects every <a href> and every id (and <a name>) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        for key in ("id", "name") if tag == "a" else ("id",):
            if values.get(key):
                self.ids.add(values[key] or "")


def parse_links(page: Path) -> LinkParser:
    parser = LinkParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def broken_links(html: Path, pages: list[Path]) -> list[str]:
    """Every local <a href> of ``pages`` whose file, or whose #anchor in that file, is missing."""
    parsed: dict[Path, LinkParser] = {}

    def links_of(page: Path) -> LinkParser:
        if page not in parsed:
            parsed[page] = parse_links(page)
        return parsed[page]

    broken = []
    for page in pages:
        links = links_of(page)
        for href in links.hrefs:
            parts = urlsplit(href)
            if parts.scheme or href.startswith("//"):
                continue  # launch buttons and citations' URLs: links out, never loaded by the page
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            where = f"{page.relative_to(html)}: {href!r}"
            if not target.exists():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = links_of(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where} (no id {parts.fragment!r} there)")
    return broken


def test_every_internal_link_and_anchor_resolves(book: Book) -> None:
    broken = broken_links(book.html, built_pages(book))
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:40])


def test_pages_load_mathjax_once(book: Book) -> None:
    """Only tex-chtml.js: one more MathJax script means vendored files leaked into html_js_files."""
    for page in built_pages(book):
        mathjax = [
            url for tag, _, url in page_assets(page) if tag == "script" and "/mathjax/" in url
        ]
        assert len(mathjax) <= 1, (
            f"{page.relative_to(book.html)} loads {len(mathjax)} MathJax scripts, "
            f"e.g. {mathjax[:3]}. Jupyter Book adds every .js under <repo>/_static to every page: "
            "keep vendored files out of _static/ (see VENDOR in the Makefile) and delete a stale "
            "_static/vendor/."
        )


# -- the pages in a browser ------------------------------------------------------------------------


def chromium_path() -> str:
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail(
        "Chromium is needed to check the rendered book: run `make browser` "
        "(Debian: apt-get install chromium)",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright Python package is missing: run `make install`", pytrace=False)
    executable = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# After MathJax's startup promise settles: the state of every math node Sphinx wrote.
MATH_STATE_JS = """() => {
  const nodes = Array.from(document.querySelectorAll('.math'));
  const raw = /\\\\\\(|\\\\\\[|\\$\\$|\\\\begin\\{/;
  return {
    total: nodes.length,
    typeset: nodes.filter(n => n.querySelector('mjx-container')).length,
    raw: nodes.filter(n => raw.test(Array.from(n.childNodes)
        .filter(c => c.nodeType === Node.TEXT_NODE).map(c => c.textContent).join(''))
      ).map(n => n.textContent.slice(0, 80)),
    errors: Array.from(document.querySelectorAll('mjx-merror'))
      .map(e => e.textContent.slice(0, 80)),
  };
}"""

# Text outside code and math that still looks like TeX: math that no parser turned into a math node.
STRAY_TEX_JS = """() => {
  const main = document.querySelector('main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .math').forEach(e => e.remove());
  const text = copy.textContent;
  return ['$$', '\\\\(', '\\\\[', '\\\\begin{', '\\\\frac'].filter(t => text.includes(t));
}"""

WIDGET_STATE_JS = """() => {
  const views = Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]'));
  const drawn = views.filter(v => {
    const area = v.previousElementSibling;
    return area && area.classList.contains('widget-subarea')
      && area.querySelector('.jupyter-widgets');
  });
  return {views: views.length, drawn: drawn.length,
          sliders: document.querySelectorAll('.widget-slider').length};
}"""

FONTS_JS = (
    """() => Array.from(document.fonts).filter(f => f.status === 'error').map(f => f.family)"""
)

IMAGES_JS = """() => Array.from(document.images).map(i => ({
  src: i.currentSrc.slice(0, 100), complete: i.complete, width: i.naturalWidth}))"""


ANCHORS_JS = """() => Array.from(document.querySelectorAll('a[href^="#"]'))
  .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
  .filter(id => id && !document.getElementById(id) && !document.getElementsByName(id).length)"""


@dataclasses.dataclass
class Visit:
    requests: list[str] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)  # uncaught exceptions
    console: list[str] = dataclasses.field(default_factory=list)  # console errors

    def report(self) -> str:
        return (
            f"page errors: {self.errors}\nconsole errors: {self.console}\n"
            f"failed requests: {self.failed}"
        )


@pytest.mark.parametrize("docname", PAGES)
def test_page_renders_offline_in_chromium(book: Book, browser, docname: str) -> None:
    path = book.html / html_name(docname)
    assert path.is_file(), f"{html_name(docname)} was not built"
    # index.html only redirects (to the root document): follow it, and check the page it lands on.
    redirect = REDIRECT.search(path.read_text(encoding="utf-8"))
    landing = (path.parent / unquote(redirect.group(1))).resolve() if redirect else path
    assert landing.is_file(), f"{docname} redirects to a page that was not built: {landing}"
    source = landing.read_text(encoding="utf-8")
    has_math = 'class="math' in source
    has_widget_state = "application/vnd.jupyter.widget-state+json" in source
    has_widget_views = "application/vnd.jupyter.widget-view+json" in source
    assert has_widget_state or not has_widget_views, (
        f"{docname} shows widgets but saved no widget state: "
        "execute it with store_widget_state=True"
    )

    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    visit = Visit()
    page.on("request", lambda r: visit.requests.append(r.url))
    page.on("requestfailed", lambda r: visit.failed.append(f"{r.url} ({r.failure})"))
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and visit.console.append(m.text))
    try:
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        if redirect:
            page.wait_for_url(landing.as_uri())
            page.wait_for_load_state("load")

        if has_math:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
            )
            page.evaluate("() => MathJax.startup.promise")
            math = page.evaluate(MATH_STATE_JS)
            assert math["total"] > 0
            assert math["typeset"] == math["total"], f"MathJax typeset {math}\n{visit.report()}"
            assert not math["raw"], f"raw TeX left in math nodes: {math['raw']}"
            assert not math["errors"], f"MathJax reported TeX errors: {math['errors']}"
        stray = page.evaluate(STRAY_TEX_JS)
        assert not stray, f"{docname}: TeX outside math nodes ({stray}): is dollarmath/amsmath on?"

        if has_widget_views:
            try:
                page.wait_for_function(
                    f"() => {{ const s = ({WIDGET_STATE_JS})(); return s.drawn === s.views; }}"
                )
            except Exception as exc:  # a timeout: say what was (not) drawn
                pytest.fail(
                    f"widgets not drawn: {page.evaluate(WIDGET_STATE_JS)} ({exc})\n{visit.report()}"
                )
            widgets = page.evaluate(WIDGET_STATE_JS)
            assert widgets["views"] > 0 and widgets["drawn"] == widgets["views"], widgets

        # Every image, including those a widget adds, has finished and decoded to a real picture.
        page.evaluate(
            "() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
        )
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        images = page.evaluate(IMAGES_JS)
        broken = [img for img in images if img["width"] == 0]
        assert not broken, f"images that did not load: {broken}\n{visit.report()}"

        # Web fonts (MathJax's, the theme's icons, the widgets' icons) finish loading, none failed.
        page.evaluate("() => document.fonts.ready.then(() => true)")
        fonts = page.evaluate(FONTS_JS)
        assert not fonts, f"web fonts that failed to load: {fonts}\n{visit.report()}"

        seconds = time.perf_counter() - start
        # Same-page anchors (a page's own table of contents, footnotes) exist in the live page.
        dangling = page.evaluate(ANCHORS_JS)
        assert not dangling, f"{docname}: links to anchors that are not on the page: {dangling}"

        shot = SCREENSHOTS / f"{docname.replace('/', '__')}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        print(f"\n{docname}: rendered in {seconds:.1f} s, {len(images)} images, screenshot {shot}")
    finally:
        context.close()

    remote = [url for url in visit.requests if is_remote(url)]
    assert not remote, f"{docname} made requests off this machine: {remote}"
    assert not visit.failed, f"{docname}: requests that failed:\n{visit.report()}"
    assert not visit.errors, f"{docname}: uncaught JavaScript errors:\n{visit.report()}"
    assert not visit.console, f"{docname}: console errors:\n{visit.report()}"


# -- explorers without a kernel -------------------------------------------------------------------

EXPLORER_JS = """() => Array.from(document.querySelectorAll('.dlcourse-explorer')).map(box => ({
  menus: box.querySelectorAll('select').length,
  src: box.querySelector('img').currentSrc,
  width: box.querySelector('img').naturalWidth}))"""


def static_explorer_pages(book: Book) -> list[str]:
    return [d for d in DOCNAMES if 'class="dlcourse-explorer"' in _page_text(book, d)]


def _page_text(book: Book, docname: str) -> str:
    path = book.html / html_name(docname)
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def test_every_explorer_has_a_static_version(book: Book) -> None:
    assert static_explorer_pages(book), "no page has a kernel-free explorer"
    for docname in DOCNAMES:
        if "application/vnd.jupyter.widget-view+json" in _page_text(book, docname):
            assert docname in static_explorer_pages(book), f"{docname}: widgets, no static explorer"


def test_moving_a_static_explorers_control_changes_the_picture(book: Book, browser) -> None:
    for docname in static_explorer_pages(book):
        page = browser.new_page()
        try:
            page.goto((book.html / html_name(docname)).as_uri(), wait_until="load")
            before = page.evaluate(EXPLORER_JS)
            assert before and all(e["menus"] >= 2 and e["width"] > 0 for e in before), before
            for index in range(len(before)):
                menu = page.locator(".dlcourse-explorer").nth(index).locator("select").nth(1)
                menu.select_option(index=1)
                page.wait_for_function(
                    "(i) => { const img = document.querySelectorAll('.dlcourse-explorer img')[i];"
                    " return img.complete && img.naturalWidth > 0; }",
                    arg=index,
                )
            after = page.evaluate(EXPLORER_JS)
            for old, new in zip(before, after):
                assert new["src"] != old["src"] and new["width"] > 0, (old, new)
            sizes = [p.stat().st_size for p in (book.html / "_explorers").rglob("*.png")]
            print(
                f"\n{docname}: {len(sizes)} explorer pictures, {sum(sizes) / 1024:.0f} KiB in all, "
                f"{max(sizes) / 1024:.0f} KiB at most; one is loaded at a time"
            )
        finally:
            page.close()
