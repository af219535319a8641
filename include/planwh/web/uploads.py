"""An upload from the sender page: checked as ``planwh check`` checks a file, then received in the
landing folder through the reception ledger, or refused and kept aside.

1. The bytes were streamed to ``<state>/web/incoming/<random>.part`` under the size limit
   (``planwh.web.security``); their type is sniffed before any reader opens them.
2. The upload gets its ``web.uploads`` row, and the file the name the server gives it,
   ``web-<upload>-<agency>-<period>.<xlsx|csv>`` (the agency code is the register's, the period the
   page's; the sender's own file name is only a label in the database).
3. ``planwh.ingest.load.check_file`` reads and validates it exactly as ingestion would, rolls
   everything back and writes the feedback XLSX, Vietnamese first.
4. A report of this agency and period with rows that would load is **received**: written into
   ``<landing>/submissions/web/`` atomically (a ``.part`` name the sweeps leave alone, then a
   rename) and registered at once in the reception ledger (``reception.register_file``), so the
   next scheduled run loads it like any landing file. :func:`load_now` (the sender's "load now")
   takes that reception and loads it with the same code the DAG tasks run
   (``reception.load_receptions``).
5. Anything else is **refused** (not a report, another agency's or period's rows, no row that
   would load, the whole file rejected): nothing reaches the landing folder, and the bytes are kept
   as sent under ``<state>/web/kept/upload-<upload>.<kind>`` with their SHA-256 in the row.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from planwh.db import connect, warehouse_url
from planwh.ingest.feedback import SEVERITY_TEXT, safe_stem
from planwh.settings import Settings
from planwh.web.accounts import Account, record_event
from planwh.web.security import Incoming, UploadRefused, sniff

log = logging.getLogger(__name__)

PROBLEMS_SHOWN = 500
UPLOAD_COLUMNS = (
    "upload_id, account_id, agency_code, period, original_name, uploaded_at, size_bytes, sha256, file_kind, state, "
    "reason_code, message_vi, message_en, reception_id, file_id, rows_in, rows_loaded, rows_rejected, rows_skipped, "
    "warnings, result, feedback_path, loaded_at"
)


@dataclass
class Upload:
    upload_id: int
    account_id: int
    agency_code: str
    period: str
    original_name: str
    uploaded_at: datetime
    size_bytes: int | None
    sha256: str | None
    file_kind: str | None
    state: str  # refused | rejected | received | loaded
    reason_code: str | None
    message_vi: str | None
    message_en: str | None
    reception_id: int | None
    file_id: int | None
    rows_in: int | None
    rows_loaded: int | None
    rows_rejected: int | None
    rows_skipped: int | None
    warnings: int | None
    result: dict
    feedback_path: str | None
    loaded_at: datetime | None


def fetch_upload(conn: psycopg.Connection, upload_id: int) -> Upload | None:
    row = conn.execute(f"select {UPLOAD_COLUMNS} from web.uploads where upload_id = %s", (upload_id,)).fetchone()
    return Upload(*row) if row else None


def label_for(original_name: str) -> str:
    """The sender's file name as a label: printable, at most 200 characters."""
    from planwh.ingest.ledger import printable_name

    text = printable_name(original_name.replace("\\", "/").rsplit("/", 1)[-1]) or "(không tên)"
    return text[:200]


def receive_upload(
    settings: Settings,
    account: Account,
    agency_code: str,
    period: str,
    original_name: str,
    incoming: Incoming,
    client: str,
    *,
    at: datetime | None = None,
) -> int:
    """Check an upload and receive it or refuse it (see the module doc); returns its upload id."""
    from planwh.ingest.load import IngestError, check_file

    at = at or datetime.now(UTC)
    label = label_for(original_name)
    folder = settings.web_dir
    with connect(warehouse_url(settings), autocommit=True) as conn:
        upload_id = conn.execute(
            "insert into web.uploads (account_id, agency_code, period, original_name, uploaded_at, size_bytes, sha256, "
            "state) values (%s, %s, %s, %s, %s, %s, %s, 'refused') returning upload_id",
            (account.account_id, agency_code, period, label, at, incoming.size, incoming.sha256),
        ).fetchone()[0]
        try:
            kind = sniff(incoming.path)
        except UploadRefused as refused:
            kept = _keep(folder, incoming.path, upload_id, "bin")
            _finish(conn, upload_id, state="refused", reason=(refused.reason_code, refused.message_vi, refused.message),
                    kept=kept)
            record_event(conn, "upload_refused", account=account, client=client, agency_code=agency_code,
                         period=period, upload_id=upload_id, detail={"reason_code": refused.reason_code}, at=at)
            return upload_id
        name = f"web-{upload_id:06d}-{safe_stem(agency_code, 40)}-{period}.{kind}"
        checking = folder / "incoming" / name
        os.replace(incoming.path, checking)
        feedback = folder / "feedback" / f"upload-{upload_id}.feedback.xlsx"
        try:
            outcome = check_file(settings, checking, None, received_at=at, feedback_path=feedback)
        except IngestError as exc:
            outcome = None
            reason = ("unreadable", exc.message_vi, str(exc))
        except Exception as exc:  # a file no reader anticipated is refused, never a crash of the page
            log.warning("upload %s could not be checked: %s", upload_id, type(exc).__name__)
            outcome = None
            reason = ("unreadable", "Tệp không đọc được do một lỗi không lường trước; hãy mở tệp bằng Excel, lưu lại "
                      "thành .xlsx rồi gửi lại, nếu vẫn lỗi hãy liên hệ bộ phận tiếp nhận",
                      f"the file could not be checked ({type(exc).__name__})")
        result = _result(outcome) if outcome is not None else {}
        if outcome is not None:
            reason = _refusal(outcome, agency_code, period)
        counts = _counts(outcome)
        if reason is not None:
            kept = _keep(folder, checking, upload_id, kind)
            state = "rejected" if outcome is not None and outcome.status == "rejected" else "refused"
            _finish(conn, upload_id, state=state, reason=reason, kept=kept, kind=kind, result=result,
                    feedback=feedback if feedback.exists() else None, counts=counts)
            record_event(conn, f"upload_{state}", account=account, client=client, agency_code=agency_code,
                         period=period, upload_id=upload_id, detail={"reason_code": reason[0], **counts}, at=at)
            return upload_id
        reception_id, landing_path = _into_landing(settings, conn, checking, name, at)
        checking.unlink(missing_ok=True)
        _finish(conn, upload_id, state="received", reason=None, kept=None, kind=kind, result=result,
                feedback=feedback, counts=counts, reception_id=reception_id, landing_path=landing_path)
        record_event(conn, "upload_received", account=account, client=client, agency_code=agency_code, period=period,
                     upload_id=upload_id, detail={"reception_id": reception_id, **counts}, at=at)
    return upload_id


def _refusal(outcome, agency_code: str, period: str) -> tuple[str, str, str] | None:
    """Why a checked file is not received, (code, Vietnamese, English), or None."""
    from planwh.ingest.contracts import SOURCE_TITLES

    if outcome.status == "rejected":
        return (outcome.reason_code or "rejected", outcome.reason_vi or outcome.reason or "", outcome.reason or "")
    if outcome.source != "submissions":
        title_en, title_vi = SOURCE_TITLES.get(outcome.source, (outcome.source, outcome.source))
        return ("not_a_report",
                f"Tệp là {title_vi}, không phải báo cáo kết quả thực hiện; trang này chỉ nhận báo cáo của đơn vị, "
                "hãy dùng biểu mẫu tải về từ trang này",
                f"the file is {title_en}, not an agency's report; this page takes reports only")
    others = sorted({a for a, _ in outcome.loaded_keys if a != agency_code})
    if others:
        return ("other_agency",
                f"Tệp có số liệu của đơn vị khác ({', '.join(others[:5])}); mỗi đơn vị chỉ gửi báo cáo của chính mình "
                f"(mã {agency_code}). Không có dòng nào được tiếp nhận",
                f"the file holds rows of other agencies ({', '.join(others[:5])}); an agency sends its own report only")
    periods = sorted({p for _, p in outcome.loaded_keys if p != period})
    if periods:
        return ("other_period",
                f"Tệp có số liệu của kỳ {', '.join(periods[:5])}, không phải kỳ {period} đã chọn; hãy tải lên ở đúng "
                "kỳ báo cáo hoặc sửa cột Kỳ báo cáo",
                f"the file holds rows of period {', '.join(periods[:5])}, not {period}")
    if not outcome.rows_loaded:
        return ("no_row_loads",
                "Không có dòng nào hợp lệ để tiếp nhận; hãy sửa các lỗi liệt kê bên dưới rồi gửi lại",
                "no row of the file would load; fix the problems listed and send it again")
    return None


def _counts(outcome) -> dict[str, int]:
    if outcome is None:
        return {}
    return {k: int(getattr(outcome, k) or 0) for k in ("rows_in", "rows_loaded", "rows_rejected", "rows_skipped",
                                                       "warnings")}


def _result(outcome) -> dict:
    """What the result page shows, kept with the upload (numbers, messages; the values a sender typed
    in a rejected cell are shown back to that sender only)."""
    summary = outcome.summary()
    problems = [
        {"row": p.row, "column": p.column_vi or p.column, "value": p.value, "code": p.reason_code,
         "vi": p.text_vi, "en": p.message, "severity": p.severity,
         "severity_text": SEVERITY_TEXT.get(p.severity, p.severity)}
        for p in outcome.problems[:PROBLEMS_SHOWN]
    ]
    return {
        "lines": [list(pair) for pair in summary.lines()],
        "problems": problems,
        "problems_total": len(outcome.problems),
        "source": outcome.source,
        "duplicate_of": outcome.duplicate_of,
        "keys": [list(k) for k in outcome.loaded_keys],
        "rows": [{"row": r, "measure": m, "name": _measure_names().get(m, ""), "task": t, "value": _value(v)}
                 for r, m, t, v in outcome.loaded_rows],
    }


def _measure_names() -> dict[str, str]:
    from planwh.reference.catalogue import MEASURES

    return {m["measure_code"]: m["name_vi"] for m in MEASURES}


def _value(value) -> str:
    number = float(value)
    return f"{int(number):,}".replace(",", ".") if number.is_integer() else f"{number:,.2f}".replace(
        ",", " ").replace(".", ",").replace(" ", ".")


def _keep(folder: Path, path: Path, upload_id: int, kind: str) -> Path:
    kept = folder / "kept" / f"upload-{upload_id}.{kind}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, kept)
    kept.chmod(0o440)
    return kept


def _into_landing(settings: Settings, conn: psycopg.Connection, checked: Path, name: str,
                  at: datetime) -> tuple[int, str]:
    """Write the file into ``<landing>/submissions/web/`` under ``name`` atomically and register it."""
    from planwh.ingest.reception import register_file

    target_dir = settings.landing_dir / "submissions" / "web"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    partial = target_dir / f"{name}.part"  # a temporary name: a sweep leaves it for later
    with open(checked, "rb") as src, open(partial, "xb") as dst:
        shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(partial, target)
    reception, _ = register_file(settings, "submissions", target, now=at, received_at=at, conn=conn)
    return reception.reception_id, str(target)


def _finish(conn: psycopg.Connection, upload_id: int, *, state: str, reason: tuple[str, str, str] | None,
            kept: Path | None, kind: str | None = None, result: dict | None = None, feedback: Path | None = None,
            counts: dict | None = None, reception_id: int | None = None, landing_path: str | None = None) -> None:
    counts = counts or {}
    conn.execute(
        """
        update web.uploads set state = %s, reason_code = %s, message_vi = %s, message_en = %s, kept_path = %s,
            file_kind = %s, result = %s, feedback_path = %s, rows_in = %s, rows_loaded = %s, rows_rejected = %s,
            rows_skipped = %s, warnings = %s, reception_id = %s, landing_path = %s
        where upload_id = %s
        """,
        (state, *(reason or (None, None, None)), str(kept) if kept else None, kind, Jsonb(result or {}),
         str(feedback) if feedback else None, counts.get("rows_in"), counts.get("rows_loaded"),
         counts.get("rows_rejected"), counts.get("rows_skipped"), counts.get("warnings"), reception_id, landing_path,
         upload_id),
    )


def load_now(settings: Settings, account: Account, upload: Upload, client: str) -> Upload:
    """Load a received upload at once, as the next run would: take its reception and load it with
    the DAG tasks' code. Nothing happens to an upload that is not waiting."""
    from planwh.ingest.reception import load_receptions, reception_by_id, reception_clock, take_one

    with connect(warehouse_url(settings), autocommit=True) as conn:
        if upload.state != "received" or upload.reception_id is None:
            return upload
        reception = reception_by_id(conn, upload.reception_id)
        take_one(conn, reception.reception_id, None, None, now=reception_clock())
        outcomes = load_receptions(conn, settings, [reception])
        row = conn.execute(
            "select file_id, status, rows_loaded, rows_rejected from landing.files where reception_id = %s "
            "and status <> 'received' order by file_id desc limit 1",
            (reception.reception_id,),
        ).fetchone()
        if row is not None:
            conn.execute(
                "update web.uploads set state = 'loaded', file_id = %s, loaded_at = %s, rows_loaded = coalesce(%s, "
                "rows_loaded), rows_rejected = coalesce(%s, rows_rejected) where upload_id = %s",
                (row[0], datetime.now(UTC), row[2], row[3], upload.upload_id),
            )
        record_event(conn, "upload_loaded", account=account, client=client, agency_code=upload.agency_code,
                     period=upload.period, upload_id=upload.upload_id,
                     detail={"file_id": row[0] if row else None, "status": row[1] if row else None,
                             "loaded_now": bool(outcomes)})
        return fetch_upload(conn, upload.upload_id)


def sync_state(conn: psycopg.Connection, upload: Upload) -> Upload:
    """A received upload that a scheduled run has loaded since is shown as loaded, with its file."""
    if upload.state != "received" or upload.reception_id is None:
        return upload
    row = conn.execute(
        "select file_id, rows_loaded, rows_rejected from landing.files where reception_id = %s and status <> 'received' "
        "order by file_id desc limit 1",
        (upload.reception_id,),
    ).fetchone()
    if row is None:
        return upload
    conn.execute(
        "update web.uploads set state = 'loaded', file_id = %s, loaded_at = coalesce(loaded_at, %s), "
        "rows_loaded = %s, rows_rejected = %s where upload_id = %s and state = 'received'",
        (row[0], datetime.now(UTC), row[1], row[2], upload.upload_id),
    )
    return fetch_upload(conn, upload.upload_id)
