"""Small loaded batches written straight into landing.files and raw.*, as ingestion leaves them.

The gate only reads what ingestion wrote, so the tests build exactly that state (ledger row with
status ``loaded`` and its raw rows) without going through file parsing; each test gets its own
warehouse from the ``settings`` fixture.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import psycopg
from psycopg import sql

from planwh.ingest.schema import RAW_COLUMNS

RECEIVED = datetime(2024, 12, 2, 3, 0, tzinfo=UTC)


def person(n: int) -> str:
    return hashlib.sha256(f"person-{n}".encode()).hexdigest()


class Warehouse:
    """Writes loaded files the way ingestion does, and reads back what the gate did."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def add_file(
        self,
        source: str,
        table: str,
        rows: list[dict],
        *,
        received_at: datetime = RECEIVED,
        name: str | None = None,
        course: dict | None = None,
        rows_loaded: int | None = None,
    ) -> int:
        file_id = self.conn.execute(
            """
            insert into landing.files (source, original_name, size_bytes, received_at, status, rows_in,
                rows_loaded, rows_rejected, loaded_at, is_current_version)
            values (%s, %s, 100, %s, 'loaded', %s, %s, 0, %s, true)
            returning file_id
            """,
            (
                source,
                name or f"{source}.csv",
                received_at,
                len(rows) if rows_loaded is None else rows_loaded,
                len(rows) if rows_loaded is None else rows_loaded,
                received_at,
            ),
        ).fetchone()[0]
        if course is not None:
            self._insert("training_courses", file_id, [course], numbered=False)
        self._insert(table, file_id, rows)
        self.conn.commit()
        return file_id

    def _insert(self, table: str, file_id: int, rows: list[dict], numbered: bool = True) -> None:
        allowed = RAW_COLUMNS[f"raw.{table}"]
        for number, row in enumerate(rows, start=1):
            unknown = set(row) - set(allowed)
            assert not unknown, f"{table} has no columns {unknown}"
            values = {"file_id": file_id, **({"row_number": number} if numbered else {}), **row}
            self.conn.execute(
                sql.SQL("insert into {} ({}) values ({})").format(
                    sql.Identifier("raw", table),
                    sql.SQL(", ").join(map(sql.Identifier, values)),
                    sql.SQL(", ").join(sql.Placeholder() * len(values)),
                ),
                list(values.values()),
            )

    def scalar(self, query: str, *params):
        value = self.conn.execute(query, params).fetchone()[0]
        self.conn.commit()
        return value

    def rows(self, query: str, *params) -> list[tuple]:
        result = self.conn.execute(query, params).fetchall()
        self.conn.commit()
        return result

    def published_rows(self, table: str, file_id: int) -> list[int]:
        return [
            r[0]
            for r in self.rows(
                sql.SQL("select row_number from {} where file_id = %s order by row_number")
                .format(sql.Identifier("published", table))
                .as_string(self.conn),
                file_id,
            )
        ]

    def quarantine(self, file_id: int) -> list[tuple]:
        return self.rows(
            """
            select row_number, reason_code, column_name, value, message from quarantine.rejected_rows
            where file_id = %s and reason_code like 'gx\\_%%' order by row_number nulls first, reason_code
            """,
            file_id,
        )

    def verdict(self, file_id: int) -> dict:
        cur = self.conn.execute("select * from audit.batches where file_id = %s", (file_id,))
        names = [d.name for d in cur.description]
        row = cur.fetchone()
        self.conn.commit()
        return dict(zip(names, row, strict=True)) if row else {}

    def run_count(self, file_id: int | None = None) -> int:
        if file_id is None:
            return self.scalar("select count(*) from audit.validation_runs")
        return self.scalar("select count(*) from audit.validation_runs where file_id = %s", file_id)


def submission(
    measure: str,
    value: float,
    *,
    agency: str = "QNA_STTTT",
    period: str = "2024",
    task_code: str | None = None,
    submitted_at: date = date(2024, 11, 25),
) -> dict:
    return {
        "province_code": "49",
        "agency_code": agency,
        "agency_name": "Sở TT&TT",
        "period": period,
        "period_kind": "year",
        "period_start": date(2024, 1, 1),
        "period_end": date(2024, 12, 31),
        "measure_code": measure,
        "value": value,
        "task_code": task_code,
        "submitted_at": submitted_at,
    }


def article(
    n: int,
    *,
    day: date = date(2024, 12, 1),
    views: int = 100,
    visitors: int = 60,
    language: str = "vi",
    portal: str = "quangnam.gov.vn",
) -> dict:
    return {
        "stat_date": day,
        "province_code": "49",
        "portal": portal,
        "article_id": f"a{n}",
        "url": f"https://{portal}/a{n}",
        "title": f"Bài {n}",
        "topic": "human_rights",
        "language": language,
        "published_at": datetime(2024, 11, 20, tzinfo=UTC),
        "page_views": views,
        "unique_visitors": visitors,
    }


def trainee(n: int, *, category: str = "hr_official", attended: bool = True, completed: bool = True) -> dict:
    return {
        "course_id": "QNA-2024-01",
        "person_key": person(n),
        "gender": "Nữ",
        "agency_code": "QNA_STTTT",
        "position": "Chuyên viên",
        "category": category,
        "attended": attended,
        "completed": completed,
    }


def course(**changes) -> dict:
    return {
        "course_id": "QNA-2024-01",
        "title": "Tập huấn truyền thông về quyền con người",
        "organiser_agency_code": "QNA_STTTT",
        "province_code": "49",
        "start_date": date(2024, 10, 1),
        "end_date": date(2024, 10, 3),
        "mode": "Trực tiếp",
        **changes,
    }
