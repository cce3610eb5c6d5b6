"""drift.html on disk: Evidently's page with its script bundle shared, and a size cap.

Evidently 0.7's ``Snapshot.save_html`` always inlines its whole front end (``index.js``, a
3.5 MB bundle holding React and plotly) and its icon font into each page, so every checked
batch would cost ~4.5 MB. The page itself loads that bundle with one ``<script>`` tag
(``evidently.legacy.utils.dashboard.file_html_template``); its legacy reports have a folder
mode that links the bundle instead, but ``Snapshot`` has none. So the page is rendered as
Evidently writes it and the inlined bundle and font are then swapped for links to one
shared copy (``_assets/evidently-<version>.js`` beside the reports' folders); what remains
(the report's data, ~70 kB per column) is what the size cap counts. A page whose bundle is
not found verbatim (another Evidently version) is left self-contained: correct, only larger.

:func:`self_contained_html` undoes the sharing for showing or downloading a page on its own
(the app's evidence page serves it from a ``srcdoc`` frame, where relative links do not
resolve).
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

ASSETS_DIR = "_assets"
"""Folder, beside the reports' folders, that holds the one shared copy of Evidently's bundle."""
DEFAULT_MAX_HTML_BYTES = 2_000_000
"""Cap of a drift.html that ``drift watch`` writes (its bundle shared: the report's data only)."""
_LINKED_SCRIPT = re.compile(
    r'<script src="(\.\./' + ASSETS_DIR + r'/evidently-[\w.+-]+\.js)"></script>'
)
_LINKED_FONT = re.compile(r"url\((\.\./" + ASSETS_DIR + r"/material-ui-icons\.woff2)\)")


def _static() -> Path:
    import evidently

    return Path(evidently.__path__[0]) / "nbextension" / "static"


def _bundle_name() -> str:
    import evidently

    return f"evidently-{evidently.__version__}.js"


def _copy_once(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` unless a complete copy is there (temp, then rename)."""
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(source.read_bytes())
    os.replace(tmp, target)


def share_assets(page: str, assets: Path) -> str:
    """``page`` (Evidently's self-contained HTML) with its bundle and font linked from
    ``assets`` (copied there once); unchanged when they are not found verbatim in it.

    The links are relative (``../_assets/…``): ``assets`` must sit beside the page's folder.
    """
    static = _static()
    bundle = (static / "index.js").read_text(encoding="utf-8")
    inlined = f"<script>{bundle}</script>"
    if inlined not in page:
        return page
    _copy_once(static / "index.js", assets / _bundle_name())
    page = page.replace(inlined, f'<script src="../{ASSETS_DIR}/{_bundle_name()}"></script>', 1)
    font = base64.b64encode((static / "material-ui-icons.woff2").read_bytes()).decode()
    embedded_font = f"url(data:font/ttf;base64,{font})"
    if embedded_font in page:
        _copy_once(static / "material-ui-icons.woff2", assets / "material-ui-icons.woff2")
        page = page.replace(embedded_font, f"url(../{ASSETS_DIR}/material-ui-icons.woff2)", 1)
    return page


def self_contained_html(page: str, html_path: Path) -> str:
    """``page`` (read from ``html_path``) with its shared bundle and font put back inline.

    Only the two names :func:`share_assets` writes are resolved, and only inside the
    ``_assets`` folder beside the page's folder: a page cannot make this read other files.
    A missing asset leaves its link as it is (the page then shows its data without icons or
    charts, and says nothing wrong).
    """
    assets = html_path.resolve().parent.parent / ASSETS_DIR

    def script(match: re.Match[str]) -> str:
        found = assets / Path(match.group(1)).name
        if not found.is_file():
            return match.group(0)
        return "<script>" + found.read_text(encoding="utf-8") + "</script>"

    page = _LINKED_SCRIPT.sub(script, page)

    def font(match: re.Match[str]) -> str:
        found = assets / Path(match.group(1)).name
        if not found.is_file():
            return match.group(0)
        return f"url(data:font/ttf;base64,{base64.b64encode(found.read_bytes()).decode()})"

    return _LINKED_FONT.sub(font, page)
