"""The upload form's body, parsed as it streams in (``python-multipart``'s push parser).

The form sends its CSRF token first and then the file (browsers send fields in the order of the
form). The token is checked before a byte of the file is written; the file's bytes go straight to
:class:`planwh.web.security.IncomingWriter`, which counts them against the limit. Any other field
or a second file is refused; the sender's file name is kept only as a label.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from planwh.web.security import CSRF_FIELD, Incoming, IncomingWriter, UploadRefused

MAX_FIELD_BYTES = 4096


def _malformed() -> UploadRefused:
    return UploadRefused("malformed_upload", "the upload is not a form with one file",
                         "Dữ liệu gửi lên không đúng biểu mẫu tải tệp; hãy mở lại trang rồi chọn tệp và gửi lại")


class UploadForm:
    def __init__(self, content_type: str, folder: Path, limit: int, csrf_ok: Callable[[str], bool]):
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise _malformed()
        self.folder = folder
        self.limit = limit
        self.csrf_ok = csrf_ok
        self.csrf_failed = False
        self.filename: str | None = None
        self.incoming: Incoming | None = None
        self._csrf_seen = False
        self._writer: IncomingWriter | None = None
        self._field: bytearray | None = None
        self._name = b""
        self._headers: dict[bytes, bytes] = {}
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._error: UploadRefused | None = None
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        })

    # -- the parser's callbacks: they run inside feed(), whose caller sees any refusal
    def _part_begin(self) -> None:
        self._headers = {}
        self._name = b""

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"")
        if self._name == CSRF_FIELD.encode():
            self._field = bytearray()
        elif self._name == b"file" and options.get(b"filename", b"") == b"":
            self._field = None  # no file chosen: the browser sends an empty part
        elif self._name == b"file":
            if not self._csrf_seen or self._writer is not None or self.incoming is not None:
                self._fail(_malformed() if self._csrf_seen else None)
                return
            self.filename = options[b"filename"].decode("utf-8", "replace")
            self._writer = IncomingWriter(self.folder, self.limit)
        else:
            self._fail(_malformed())

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._error is not None:
            return
        if self._writer is not None:
            try:
                self._writer.write(data[start:end])
            except UploadRefused as exc:
                self._fail(exc)
        elif self._field is not None:
            self._field.extend(data[start:end])
            if len(self._field) > MAX_FIELD_BYTES:
                self._fail(_malformed())

    def _part_end(self) -> None:
        if self._error is not None:
            return
        if self._field is not None:
            token = self._field.decode("utf-8", "replace")
            self._field = None
            self._csrf_seen = True
            if not self.csrf_ok(token):
                self.csrf_failed = True
                self._fail(UploadRefused("csrf", "CSRF token mismatch", "Mã chống giả mạo không khớp"))
        elif self._writer is not None:
            self.incoming = self._writer.finish()
            self._writer = None

    def _fail(self, error: UploadRefused | None) -> None:
        if error is None:  # a file before the token: the form was not ours
            self.csrf_failed = True
            error = UploadRefused("csrf", "the file came before the CSRF token", "Mã chống giả mạo không khớp")
        if self._error is None:
            self._error = error
        if self._writer is not None:
            self._writer.discard()
            self._writer = None

    # -- what the route calls
    def feed(self, chunk: bytes) -> None:
        if self._error is None:
            try:
                self._parser.write(chunk)
            except UploadRefused:
                raise
            except Exception:
                self._fail(_malformed())
        if self._error is not None:
            raise self._error

    def finish(self) -> None:
        if self._error is None:
            self._parser.finalize()
        if self._error is not None:
            raise self._error
        if not self._csrf_seen:
            self.csrf_failed = True

    def close(self) -> None:
        if self._writer is not None:
            self._writer.discard()
            self._writer = None

    def discard(self) -> None:
        self.close()
        if self.incoming is not None:
            self.incoming.path.unlink(missing_ok=True)
            self.incoming = None
