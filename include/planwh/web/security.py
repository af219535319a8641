"""What keeps the sender page safe whatever a browser sends: security headers on every answer,
CSRF tokens on every form, uploads streamed under a size limit to a name the server chooses, and
their type told from their bytes before any reader opens them.

* **Headers.** A Content-Security-Policy that allows nothing but this site's own style sheet and
  images (no script at all, so no inline script can run; forms post only here; no framing), the
  same refusal of framing for old browsers (``X-Frame-Options``), ``nosniff``, no ``Referer``
  (a one-time link must not leak to another site), no caching of pages, and HSTS when the page is
  served over TLS (``PLANWH_WEB_PUBLIC_URL`` starts with ``https://``).
* **CSRF.** Each browser gets a random, HttpOnly, SameSite=Strict cookie; every form carries an
  HMAC of it under the page's secret key, and every POST without the matching token is refused
  before anything else is read. A form posted from another site has neither.
* **Uploads.** The body is streamed into a file named by the server under ``<state>/web/incoming``
  and counted as it comes: past ``PLANWH_WEB_MAX_UPLOAD_MB`` the upload stops and is refused. The
  sender's file name is kept as a label in the database, never used as a path.
* **Type sniffing.** Before any reader opens the file: an XLSX must be a zip archive whose
  directory names the workbook parts (a ``[Content_Types].xml`` and ``xl/workbook.xml``), without
  a macro project; a CSV must be text (no NUL bytes, decodable as UTF-8 or Windows-1258). Anything
  else (a PDF, an image, an old .xls, an executable) is refused with what it looks like.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

CSRF_COOKIE = "planwh_csrf"
SESSION_COOKIE = "planwh_session"
CSRF_FIELD = "csrf"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def security_headers(*, tls: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": "no-store",
    }
    if tls:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(secret: bytes, cookie: str) -> str:
    return hmac.new(secret, b"planwh.web.csrf:" + cookie.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, cookie: str | None, token: str | None) -> bool:
    if not cookie or not token or len(cookie) > 128 or len(token) > 128:
        return False
    return hmac.compare_digest(csrf_token(secret, cookie), token)


# ---------------------------------------------------------------------------- uploads


class UploadRefused(Exception):
    """An upload refused before any reader opened it; the messages say why, Vietnamese first."""

    def __init__(self, reason_code: str, message: str, message_vi: str):
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message
        self.message_vi = message_vi


def too_large(limit: int) -> UploadRefused:
    mib = limit / (1024 * 1024)
    return UploadRefused(
        "file_too_large",
        f"the file is over the page's limit of {mib:g} MiB",
        f"Tệp vượt quá giới hạn {mib:g} MiB của trang; hãy chia thành nhiều tệp nhỏ hơn rồi gửi lại",
    )


@dataclass
class Incoming:
    """An upload written to a file the server named, as it streamed in."""

    path: Path
    size: int = 0
    sha256: str = ""


class IncomingWriter:
    """Writes streamed bytes to ``<folder>/<random>.part``, refusing past ``limit`` bytes."""

    def __init__(self, folder: Path, limit: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.limit = limit
        self.path = folder / f"{uuid.uuid4().hex}.part"
        self._fh = open(self.path, "xb")  # noqa: SIM115 (closed in finish/discard)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise too_large(self.limit)
        self._hash.update(data)
        self._fh.write(data)

    def finish(self) -> Incoming:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        return Incoming(self.path, self.size, self._hash.hexdigest())

    def discard(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)


ZIP_MAGIC = b"PK\x03\x04"
_NOT_SPREADSHEETS = (
    (b"%PDF", "a PDF document", "tài liệu PDF"),
    (b"\xd0\xcf\x11\xe0", "an old Excel 97-2003 (.xls) or Word file", "tệp Excel 97-2003 (.xls) hoặc Word cũ"),
    (b"\x89PNG", "a PNG image", "ảnh PNG"),
    (b"\xff\xd8\xff", "a JPEG image", "ảnh JPEG"),
    (b"GIF8", "a GIF image", "ảnh GIF"),
    (b"MZ", "a Windows program", "chương trình Windows"),
    (b"\x7fELF", "a program", "chương trình"),
    (b"Rar!", "a RAR archive", "tệp nén RAR"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "tệp nén 7-Zip"),
    (b"\x1f\x8b", "a gzip archive", "tệp nén gzip"),
)


def sniff(path: Path) -> str:
    """``xlsx`` or ``csv``, told from the bytes; raises :class:`UploadRefused` for anything else."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if not head:
        raise UploadRefused("empty_file", "the file is empty", "Tệp rỗng (0 byte); hãy chọn đúng tệp báo cáo")
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(path)
    for magic, what, what_vi in _NOT_SPREADSHEETS:
        if head.startswith(magic):
            raise _not_a_spreadsheet(what, what_vi)
    if b"\x00" in head:
        raise _not_a_spreadsheet("a binary file", "tệp nhị phân")
    text = head
    # a read that cut a UTF-8 character in two is still text
    for cut in range(4):
        try:
            text[: len(text) - cut].decode("utf-8")
            return "csv"
        except UnicodeDecodeError:
            continue
    try:
        head.decode("cp1258")
    except UnicodeDecodeError:
        raise _not_a_spreadsheet("not text", "không phải văn bản") from None
    return "csv"


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = {info.filename for info in archive.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadRefused(
            "unreadable", "the file starts as a zip archive (an XLSX) but its directory cannot be read",
            "Tệp có dạng tệp nén (XLSX) nhưng bị hỏng, không đọc được; hãy mở bằng Excel, lưu lại (.xlsx) rồi gửi lại",
        ) from None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        what, what_vi = ("a Word document", "tài liệu Word") if "word/document.xml" in names else (
            "a zip archive that is not an Excel workbook", "tệp nén không phải bảng tính Excel")
        raise _not_a_spreadsheet(what, what_vi)
    if "xl/vbaProject.bin" in names:
        raise UploadRefused(
            "unsupported_format", "a workbook with macros (.xlsm) is not taken",
            "Bảng tính có macro (.xlsm) không được tiếp nhận; hãy lưu lại thành “Excel Workbook (.xlsx)” rồi gửi lại",
        )
    return "xlsx"


def _not_a_spreadsheet(what: str, what_vi: str) -> UploadRefused:
    return UploadRefused(
        "unsupported_format",
        f"the file is {what}, not an Excel workbook (.xlsx) or a CSV file",
        f"Tệp là {what_vi}, không phải bảng tính Excel (.xlsx) hay tệp CSV; hãy dùng biểu mẫu tải về từ trang này",
    )
