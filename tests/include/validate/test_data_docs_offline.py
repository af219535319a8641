"""GX Data Docs on a machine without the Internet: every asset is local, and Chromium draws them styled.

Every page and style sheet of the built site is parsed here (not with planwh's own check): each
script, style sheet, image and font it would fetch must be a relative address of a file in the
site. Then Chromium, with every host name unresolvable, opens a validation page: its scripts
must have run (bootstrap-table has wrapped the results table, Vega has drawn nothing remote),
and the screenshot must differ from the same page with the vendored assets removed (what a
user saw offline before), with Bootstrap's and Font Awesome's colours on it.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from validate_batches import article, submission

from planwh.settings import Settings
from planwh.validate import build_data_docs, validate_pending

CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)|@import\s+["']([^"']+)["']""")


class Fetched(HTMLParser):
    """What a browser fetches to show a page: scripts, style sheets, images, icons, inline CSS urls."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img") and values.get("src"):
            self.addresses.append(values["src"])
        elif tag == "link" and values.get("href"):
            self.addresses.append(values["href"])
        self._in_style = tag == "style"
        if values.get("style"):
            self.addresses += css_addresses(values["style"])

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.addresses += css_addresses(data)


def css_addresses(text: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(text) if not (a or b).startswith("data:")]


def unresolved(base: Path, address: str, site: Path) -> str | None:
    """Why ``address`` (seen in ``base``) is not a file of the site, or None when it is."""
    parts = urlsplit(address)
    if parts.scheme or parts.netloc or address.startswith("//"):
        return f"remote: {address}"
    target = (base.parent / unquote(parts.path)).resolve()
    if not target.is_file():
        return f"missing: {address}"
    if site.resolve() not in target.parents:
        return f"outside the site: {address}"
    return None


@pytest.fixture
def data_docs(settings: Settings, warehouse) -> Path:
    # GIVEN a validated portal export (one warning) and a report that fails a rule
    warehouse.add_file("portal", "portal_statistics", [article(1), article(2, language="xx")])
    warehouse.add_file("submissions", "agency_submissions",
                       [submission("fake_news_detected", 1), submission("fake_news_handled", 4)])
    try:
        validate_pending(settings)
    except Exception as failed:  # the failing report is the point: its page shows failed results
        assert "handled_exceeds_detected" in str(failed)
    # WHEN Data Docs are built
    return build_data_docs(settings).parent


def test_no_data_docs_page_fetches_anything_from_another_host(data_docs: Path) -> None:
    pages = sorted(data_docs.rglob("*.html"))
    assert len(pages) >= 4  # the index, the suites, the two validation results
    problems = []
    fetched = 0
    for page in pages:
        parser = Fetched()
        parser.feed(page.read_text("utf-8"))
        fetched += len(parser.addresses)
        for address in parser.addresses:
            why = unresolved(page, address, data_docs)
            if why:
                problems.append(f"{page.relative_to(data_docs)}: {why}")
            elif address.endswith(".css"):
                sheet = (page.parent / urlsplit(address).path).resolve()
                problems += [f"{sheet.name}: {w}" for a in css_addresses(sheet.read_text("utf-8"))
                             if (w := unresolved(sheet, a, data_docs))]
    assert fetched >= 15 * len(pages)
    assert problems == []
    # ... and the vendored packages keep their licences
    vendor = data_docs / "static" / "vendor"
    assert (vendor / "jquery-3.7.1" / "LICENSE.txt").is_file()
    assert (vendor / "fontawesome-free-6.6.0" / "LICENSE.txt").is_file()
    assert (vendor / "LICENSES.json").is_file() and (vendor / "README.md").is_file()


def _colours(png: Path) -> set[tuple[int, int, int]]:
    from matplotlib.image import imread

    pixels = (imread(png)[:, :, :3] * 255).round().astype(int)
    return {tuple(p) for p in pixels.reshape(-1, 3)}


def test_a_validation_page_renders_styled_offline_in_chromium(data_docs: Path, chromium, tmp_path: Path) -> None:
    (page,) = (data_docs / "validations" / "agency_submissions").rglob("*.html")

    # WHEN Chromium opens the failed report's page with no network at all
    dom = chromium.dom(page.as_uri(), offline=True)
    styled = chromium.screenshot(page.as_uri(), tmp_path / "styled.png", (1400, 1600), offline=True)

    # THEN its scripts ran: jQuery and bootstrap-table have turned the results into a table widget
    assert 'class="bootstrap-table' in dom
    assert "Fake news handled cannot exceed fake news detected" in dom

    # ... and it is styled: the same page without the local assets (the old offline page) looks
    # different, and only the styled one has Bootstrap's red for the failed rule
    bare = tmp_path / "bare"
    shutil.copytree(data_docs, bare)
    shutil.rmtree(bare / "static" / "vendor")
    bare_page = bare / page.relative_to(data_docs)
    assert 'class="bootstrap-table' not in chromium.dom(bare_page.as_uri(), offline=True)
    unstyled = chromium.screenshot(bare_page.as_uri(), tmp_path / "unstyled.png", (1400, 1600), offline=True)
    styled_colours, unstyled_colours = _colours(styled), _colours(unstyled)
    bootstrap_red = (0xDC, 0x35, 0x45)
    assert bootstrap_red in styled_colours and bootstrap_red not in unstyled_colours
    assert len(styled_colours - unstyled_colours) > 50
    print(f"screenshots: {styled} {unstyled}")
