"""Great Expectations Data Docs that work offline: every script, style sheet and font served locally.

GX 1.24's page templates load jQuery, Bootstrap, bootstrap-table, Vega, Font Awesome and a
logo from CDNs, so on a machine without the Internet (ours, a ministry network) the pages
show unstyled text and empty result lists. GX offers no setting for this: a SiteBuilder's
custom views are searched after GX's own templates, so they cannot replace them. So after GX
has built the site, :func:`make_offline`

* copies the assets vendored in ``data_docs_assets/`` (the same files, taken from the npm
  registry by ``make data-docs-assets``, each package's licence beside them) to
  ``<site>/static/vendor/``;
* points every page's references at them, relative to the page, and drops the
  ``integrity``/``crossorigin`` attributes that a file opened from disk cannot satisfy (and
  mends GX's own relative path to its favicon, one folder short on validation pages);
* checks that no page still references a remote script, style sheet, font or image, and
  fails naming the page and the address otherwise (a GX upgrade that adds one is caught at
  the next build, not by a user offline).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = Path(__file__).with_name("data_docs_assets")
VENDOR = "static/vendor"


@dataclass(frozen=True)
class Package:
    name: str  # on the npm registry
    version: str
    files: tuple[str, ...]  # paths inside the package that the pages use
    licence: str  # the licence file inside the package ("" when the package ships none)

    @property
    def folder(self) -> str:
        return f"{self.name.rsplit('/', 1)[-1]}-{self.version}"


# The versions GX's templates ask for; "vega@5" and friends resolve to the newest of that major.
PACKAGES = (
    Package("vega", "5.33.1", ("build/vega.min.js",), ""),
    Package("vega-lite", "5.23.0", ("build/vega-lite.min.js",), "LICENSE"),
    Package("vega-embed", "6.29.0", ("build/vega-embed.min.js",), "LICENSE"),
    Package("jquery", "3.7.1", ("dist/jquery.min.js",), "LICENSE.txt"),
    Package("popper.js", "1.12.9", ("dist/umd/popper.min.js",), ""),
    Package("bootstrap", "4.3.1", ("dist/css/bootstrap.min.css", "dist/js/bootstrap.min.js"), "LICENSE"),
    Package("bootstrap-table", "1.19.1", (
        "dist/bootstrap-table.min.css", "dist/bootstrap-table.min.js",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ), "LICENSE"),
    Package("bootstrap-datepicker", "1.9.0", (
        "dist/css/bootstrap-datepicker.min.css", "dist/js/bootstrap-datepicker.min.js",
    ), "LICENSE"),
    Package("@forevolve/bootstrap-dark", "1.1.0", ("dist/css/bootstrap-prefers-dark.css",), "LICENSE"),
    Package("@fortawesome/fontawesome-free", "6.6.0", (
        "css/all.min.css",
        *(f"webfonts/fa-{face}.{kind}" for face in ("brands-400", "regular-400", "solid-900", "v4compatibility")
          for kind in ("woff2", "ttf")),
    ), "LICENSE.txt"),
)
_BY_NAME = {p.name: p for p in PACKAGES}


def _local(name: str, path: str) -> str:
    return f"{VENDOR}/{_BY_NAME[name].folder}/{path}"


# The remote addresses in GX 1.24's templates and default style sheet, and the file each one is.
REMOTE = {
    "https://cdn.jsdelivr.net/npm/vega@5": _local("vega", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": _local("vega-lite", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": _local("vega-embed", "build/vega-embed.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        _local("@fortawesome/fontawesome-free", "css/all.min.css"),
    "https://code.jquery.com/jquery-3.7.1.min.js": _local("jquery", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        _local("popper.js", "dist/umd/popper.min.js"),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        _local("bootstrap", "dist/js/bootstrap.min.js"),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        _local("bootstrap", "dist/css/bootstrap.min.css"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        _local("bootstrap-table", "dist/bootstrap-table.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        _local("bootstrap-table", "dist/bootstrap-table.min.css"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        _local("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"),
    # the pages ask 1.19.0 for this one style sheet and 1.19.1 for the rest: one version serves both
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        _local("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        _local("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        _local("bootstrap-datepicker", "dist/js/bootstrap-datepicker.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        _local("bootstrap-datepicker", "dist/css/bootstrap-datepicker.min.css"),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        _local("@forevolve/bootstrap-dark", "dist/css/bootstrap-prefers-dark.css"),
}
# GX's logo, from its web-assets bucket (in the page header with a time stamp, as a counter would
# be, and in the dark theme's style sheet): GX ships the same logo among its static images.
GX_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/(?:logo-long|full_logo_dark)\.png"
    r"(?:\?[^\"')\s]*)?"
)
GX_LOGO_LOCAL = "static/images/logo-long.png"

# What a browser would fetch from elsewhere: scripts, style sheets, fonts and images. Links a
# reader may click (<a href>) are not fetched and stay.
REMOTE_REFERENCE = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|<img\b[^>]*\bsrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')\s]+)"""
    r"""|@import\s+["']((?:https?:)?//[^"']+)""",
    re.IGNORECASE,
)
_UP_TO_STATIC = re.compile(r"(?:\.\./)+static/")
_FETCH_CHECKS = re.compile(r"""\s+(?:integrity|crossorigin)\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)


class DataDocsError(RuntimeError):
    """Data Docs that would need the network."""


def remote_references(text: str) -> list[str]:
    """Every address a browser would fetch from another host to show this page or style sheet."""
    return [next(group for group in match.groups() if group) for match in REMOTE_REFERENCE.finditer(text)]


def make_offline(site: Path) -> int:
    """Serve the site's assets from ``<site>/static/vendor``; return the pages and style sheets rewritten.

    Raises :class:`DataDocsError` naming the page and address of any remote reference left.
    """
    missing = [f for p in PACKAGES for f in p.files if not (ASSETS_DIR / p.folder / f).is_file()]
    if missing:
        raise DataDocsError(f"{ASSETS_DIR}: vendored asset(s) missing ({', '.join(missing)}); "
                            "run `make data-docs-assets`")
    shutil.copytree(ASSETS_DIR, site / VENDOR, dirs_exist_ok=True)
    rewritten = 0
    left: list[str] = []
    for document in sorted([*site.rglob("*.html"), *(site / "static" / "styles").rglob("*.css")]):
        text = document.read_text("utf-8")
        root = Path(os.path.relpath(site, document.parent)).as_posix()
        new = text
        for remote, local in REMOTE.items():
            new = new.replace(remote, f"{root}/{local}")
        new = GX_LOGO.sub(f"{root}/{GX_LOGO_LOCAL}", new)
        if document.suffix == ".html":
            # GX climbs one folder too few to its static folder from validation pages (favicon)
            new = _UP_TO_STATIC.sub(f"{root}/static/", new)
        new = _FETCH_CHECKS.sub("", new)
        if new != text:
            document.write_text(new, "utf-8")
            rewritten += 1
        left += [f"{document.relative_to(site)}: {address}" for address in remote_references(new)]
    if left:
        raise DataDocsError(
            "Data Docs still reference remote assets (add them to planwh/validate/data_docs.py): " + "; ".join(left)
        )
    return rewritten


def vendor(registry_client: str = "npm") -> None:
    """Fetch :data:`PACKAGES` from the npm registry into ``data_docs_assets/`` (``make data-docs-assets``).

    Each package's files and licence are kept as published; ``LICENSES.json`` lists them.
    """
    listing = []
    with tempfile.TemporaryDirectory() as work:
        for package in PACKAGES:
            spec = f"{package.name}@{package.version}"
            packed = subprocess.run([registry_client, "pack", spec, "--silent"], cwd=work, check=True,
                                    capture_output=True, text=True).stdout.strip().splitlines()[-1]
            target = ASSETS_DIR / package.folder
            shutil.rmtree(target, ignore_errors=True)
            with tarfile.open(Path(work) / packed) as archive:
                for path in (*package.files, *([package.licence] if package.licence else [])):
                    member = archive.extractfile(f"package/{path}")
                    if member is None:
                        raise DataDocsError(f"{spec} has no file {path}")
                    (target / path).parent.mkdir(parents=True, exist_ok=True)
                    (target / path).write_bytes(member.read())
                meta = json.load(archive.extractfile("package/package.json"))
            listing.append({"package": package.name, "version": package.version, "licence": meta.get("license"),
                            "licence_file": package.licence or None, "files": list(package.files)})
    (ASSETS_DIR / "LICENSES.json").write_text(json.dumps(listing, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    vendor()
