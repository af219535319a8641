"""The sender page: a small FastAPI application with server-rendered Vietnamese pages, no script.

Routes (paths in Vietnamese without accents):

``/dang-nhap``                   sign in (user name and password), POST checks them with the slow-down
``/moi/<token>``                 a one-time link: set the password, then signed in
``/dang-xuat``                   POST: sign out
``/``                            an agency's own page, or a focal point's list of the province's agencies
``/don-vi/<agency>?nam=<year>``  what the agency owes that year and what was received: reports with their
                                 deadline, versions, uploads; the tasks it leads with their status
``/don-vi/<agency>/bieu-mau/<period>``  the pre-filled XLSX form
``/don-vi/<agency>/gui/<period>``        the upload page; POST uploads (multipart, streamed)
``/tai-len/<upload>``            the answer: rows that will load, every problem, the feedback XLSX;
                                 POST ``/tai-len/<upload>/nap-ngay`` loads a received file at once
``/tai-len/<upload>/phan-hoi.xlsx``      the feedback workbook

Every page but sign-in needs a session; an agency or upload the account may not see answers 404,
the same as one that does not exist (and is audited). Security: ``planwh.web.security``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from planwh.settings import Settings

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PERIOD = re.compile(r"^\d{4}(?:-Q[1-4])?$")
AGENCY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class NotFound(Exception):
    """Answered with the Vietnamese 404 page."""


def create_app(settings: Settings):
    from fastapi.staticfiles import StaticFiles
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from starlette.concurrency import run_in_threadpool

    from planwh.db import connect, warehouse_url
    from planwh.web import accounts, obligations, security, uploads
    from planwh.web.schema import ensure_web_schema

    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_web_schema(conn)
    secret = settings.web_secret_key
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    templates.filters["vn_time"] = _vn_time
    templates.filters["vn_date"] = lambda d: "" if d is None else f"{d:%d/%m/%Y}"
    templates.filters["number"] = lambda n: "" if n is None else f"{int(n):,}".replace(",", ".")
    templates.filters["urlpart"] = lambda s: quote(str(s), safe="")
    templates.globals["period_label"] = _period_label

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="planwh")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def db():
        return connect(warehouse_url(settings), autocommit=True)

    @app.middleware("http")
    async def protect(request: Request, call_next):
        cookie = request.cookies.get(security.CSRF_COOKIE)
        fresh = cookie is None or len(cookie) > 128
        request.state.csrf_cookie = security.new_csrf_cookie() if fresh else cookie
        request.state.csrf = security.csrf_token(secret, request.state.csrf_cookie)
        origin = request.headers.get("origin")
        if request.method == "POST" and origin and origin != "null" and origin != _origin(request):
            response = _page_response(templates, request, "error.html", {"title": "Yêu cầu bị từ chối",
                                      "message_vi": "Biểu mẫu được gửi từ trang khác; hãy mở lại trang và gửi lại.",
                                      "message_en": "The form was posted from another site."}, 403)
        else:
            try:
                response = await call_next(request)
            except NotFound:
                response = _page_response(templates, request, "error.html", _not_found(), 404)
        for name, value in security.security_headers(tls=settings.web_uses_tls).items():
            response.headers.setdefault(name, value)
        if fresh:
            response.set_cookie(security.CSRF_COOKIE, request.state.csrf_cookie, httponly=True, samesite="strict",
                                secure=settings.web_uses_tls, path="/")
        return response

    def client_of(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def signed_in(request: Request, conn) -> accounts.Account | None:
        return accounts.session_account(conn, request.cookies.get(security.SESSION_COOKIE))

    def page(request: Request, name: str, context: dict, status: int = 200, account=None):
        return _page_response(templates, request, name, {"account": account, **context}, status)

    async def posted_form(request: Request) -> dict[str, str] | None:
        """The urlencoded form of a POST, or None when its CSRF token is wrong."""
        form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if not security.csrf_ok(secret, request.cookies.get(security.CSRF_COOKIE), values.get(security.CSRF_FIELD)):
            return None
        return values

    def csrf_refused(request: Request, account=None):
        return page(request, "error.html", {
            "title": "Phiên làm việc đã thay đổi",
            "message_vi": "Biểu mẫu đã cũ hoặc không gửi từ trang này (mã chống giả mạo không khớp). Hãy mở lại trang "
                          "rồi gửi lại.",
            "message_en": "The form is stale or was not sent from this site (CSRF token mismatch).",
        }, 403, account)

    def to_sign_in(expired: bool = False):
        return RedirectResponse("/dang-nhap" + ("?het-han=1" if expired else ""), status_code=303)

    # ------------------------------------------------------------------ signing in

    @app.get("/dang-nhap", response_class=HTMLResponse)
    def sign_in_page(request: Request):
        expired = "het-han" in request.query_params
        return page(request, "sign_in.html", {"expired": expired})

    @app.post("/dang-nhap", response_class=HTMLResponse)
    async def sign_in(request: Request):
        form = await posted_form(request)
        if form is None:
            return csrf_refused(request)
        username, password = form.get("username", ""), form.get("password", "")
        result = await run_in_threadpool(_sign_in, username, password, client_of(request))
        if result.account is None:
            status = 429 if result.outcome == "throttled" else 401
            response = page(request, "sign_in.html", {"failed": result, "username": username[:64]}, status)
            if result.wait_seconds:
                response.headers["Retry-After"] = str(result.wait_seconds)
            return response
        return await run_in_threadpool(_signed_in_response, result.account, client_of(request))

    def _sign_in(username: str, password: str, client: str):
        with db() as conn:
            return accounts.sign_in(conn, username, password, client)

    def _signed_in_response(account, client: str):
        with db() as conn:
            token = accounts.start_session(conn, settings, account, client)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(security.SESSION_COOKIE, token, httponly=True, samesite="lax",
                            secure=settings.web_uses_tls, max_age=settings.web_session_minutes * 60, path="/")
        return response

    @app.post("/dang-xuat")
    async def sign_out(request: Request):
        form = await posted_form(request)
        if form is None:
            return csrf_refused(request)
        with db() as conn:
            account = signed_in(request, conn)
            accounts.end_session(conn, request.cookies.get(security.SESSION_COOKIE))
            if account is not None:
                with conn.transaction():
                    accounts.record_event(conn, "sign_out", account=account, client=client_of(request))
        response = to_sign_in()
        response.delete_cookie(security.SESSION_COOKIE, path="/")
        return response

    @app.get("/moi/{token}", response_class=HTMLResponse)
    def invitation_page(request: Request, token: str):
        with db() as conn:
            account = accounts.invitation_account(conn, token)
        if account is None:
            return page(request, "error.html", {
                "title": "Đường dẫn không còn hiệu lực",
                "message_vi": "Đường dẫn đăng nhập này đã được dùng hoặc đã hết hạn. Hãy đề nghị đầu mối tiếp nhận "
                              "cấp đường dẫn mới.",
                "message_en": "This sign-in link was used or has expired; ask for a new one."}, 404)
        return page(request, "set_password.html", {"invited": account, "token": token,
                                                   "min_length": accounts.MIN_PASSWORD_LENGTH})

    @app.post("/moi/{token}", response_class=HTMLResponse)
    async def use_invitation(request: Request, token: str):
        form = await posted_form(request)
        if form is None:
            return csrf_refused(request)
        password, again = form.get("password", ""), form.get("password_again", "")
        with db() as conn:
            invited = accounts.invitation_account(conn, token)
            if invited is None:
                return page(request, "error.html", {
                    "title": "Đường dẫn không còn hiệu lực",
                    "message_vi": "Đường dẫn đăng nhập này đã được dùng hoặc đã hết hạn.",
                    "message_en": "This sign-in link was used or has expired."}, 404)
            problem = None
            if password != again:
                problem = ("Hai lần nhập mật khẩu không khớp", "the two passwords differ")
            elif (found := accounts.password_problem(password)) is not None:
                problem = (found[1], found[0])
            if problem is not None:
                return page(request, "set_password.html", {"invited": invited, "token": token, "problem": problem,
                                                           "min_length": accounts.MIN_PASSWORD_LENGTH}, 400)
            account = accounts.use_invitation(conn, token, password)
            with conn.transaction():
                accounts.record_event(conn, "password_set", account=account, client=client_of(request))
                accounts.record_event(conn, "sign_in", account=account, client=client_of(request),
                                      detail={"outcome": "signed_in", "through": "one-time link"})
        return _signed_in_response(account, client_of(request))

    # ------------------------------------------------------------------ pages behind the sign-in

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request):
        with db() as conn:
            account = signed_in(request, conn)
            if account is None:
                return to_sign_in("planwh_session" in request.cookies)
            if account.scope == "agency":
                return RedirectResponse(f"/don-vi/{quote(account.agency_code, safe='')}", status_code=303)
            agencies = obligations.agencies_for(conn, account)
            summary = _province_summary(conn, agencies)
        return page(request, "province.html", {"agencies": agencies, "summary": summary}, account=account)

    def _agency_or_404(conn, request: Request, account, agency_code: str, period: str | None = None):
        if not AGENCY.match(agency_code) or (period is not None and not PERIOD.match(period)):
            raise NotFound
        agency = obligations.agency_for(conn, account, agency_code)
        if agency is None:
            with conn.transaction():
                accounts.record_event(conn, "access_denied", account=account, client=client_of(request),
                                      agency_code=agency_code[:64], period=period,
                                      detail={"path": request.url.path[:200]})
            raise NotFound
        return agency

    @app.get("/don-vi/{agency_code}", response_class=HTMLResponse)
    def agency_page(request: Request, agency_code: str, nam: int | None = None):
        with db() as conn:
            account = signed_in(request, conn)
            if account is None:
                return to_sign_in("planwh_session" in request.cookies)
            agency = _agency_or_404(conn, request, account, agency_code)
            available = obligations.years(conn, agency_code)
            year = nam if nam in available else obligations.default_year(available)
            due = obligations.reports(conn, agency_code, year) if year else []
            led = obligations.tasks(conn, agency_code, year) if year else []
        today = obligations.today()
        annual = next((r.deadline for r in due if r.period_kind == "year"), None)
        owed = sum(1 for r in due if r.state(today)[0] in ("owed", "late")) + sum(
            1 for t in led if t.state(today, annual)[0] in ("owed", "late"))
        return page(request, "agency.html", {"agency": agency, "years": available, "year": year, "reports": due,
                                             "tasks": led, "today": today, "owed": owed, "annual_deadline": annual},
                    account=account)

    @app.get("/don-vi/{agency_code}/bieu-mau/{period}")
    def form_download(request: Request, agency_code: str, period: str):
        from planwh.web.form import build_form, form_file_name

        with db() as conn:
            account = signed_in(request, conn)
            if account is None:
                return to_sign_in()
            _agency_or_404(conn, request, account, agency_code, period)
            facts = obligations.form_facts(conn, agency_code, period)
            if facts is None:
                raise NotFound
            with conn.transaction():
                accounts.record_event(conn, "form_downloaded", account=account, client=client_of(request),
                                      agency_code=agency_code, period=period)
        content = build_form(facts, created=datetime.now(UTC).replace(tzinfo=None))
        return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{form_file_name(facts)}"'})

    @app.get("/don-vi/{agency_code}/gui/{period}", response_class=HTMLResponse)
    def upload_page(request: Request, agency_code: str, period: str):
        with db() as conn:
            account = signed_in(request, conn)
            if account is None:
                return to_sign_in()
            agency = _agency_or_404(conn, request, account, agency_code, period)
            facts = obligations.form_facts(conn, agency_code, period)
            if facts is None:
                raise NotFound
        return page(request, "upload.html", {"agency": agency, "facts": facts,
                                             "limit_mb": settings.web_max_upload_bytes / (1024 * 1024)},
                    account=account)

    @app.post("/don-vi/{agency_code}/gui/{period}", response_class=HTMLResponse)
    async def upload(request: Request, agency_code: str, period: str):
        from planwh.web.multipart import UploadForm

        conn = await run_in_threadpool(db)
        try:
            account = signed_in(request, conn)
            if account is None:
                return to_sign_in(True)
            agency = await run_in_threadpool(_agency_or_404, conn, request, account, agency_code, period)
        finally:
            conn.close()
        limit = settings.web_max_upload_bytes
        declared = request.headers.get("content-length")
        form = UploadForm(request.headers.get("content-type", ""), settings.web_dir / "incoming", limit,
                          lambda token: security.csrf_ok(secret, request.cookies.get(security.CSRF_COOKIE), token))
        refused = None
        if declared and declared.isdigit() and int(declared) > limit + 65536:
            refused = security.too_large(limit)
        else:
            chunks = request.stream()
            try:
                async for chunk in chunks:
                    form.feed(chunk)
                form.finish()
            except security.UploadRefused as exc:
                refused = exc
                # read what the browser still sends (up to a bound), so that it shows the answer
                drained = 0
                async for chunk in chunks:
                    drained += len(chunk)
                    if drained > 4 * limit:
                        break
            finally:
                form.close()
        if form.csrf_failed:
            return csrf_refused(request, account)
        if refused is not None or form.incoming is None:
            refused = refused or security.UploadRefused("no_file", "no file was chosen",
                                                        "Chưa chọn tệp; hãy chọn tệp báo cáo rồi bấm Gửi")
            with db() as conn, conn.transaction():
                accounts.record_event(conn, "upload_refused", account=account, client=client_of(request),
                                      agency_code=agency_code, period=period,
                                      detail={"reason_code": refused.reason_code})
            form.discard()
            facts = await run_in_threadpool(_facts, agency_code, period)
            return page(request, "upload.html", {"agency": agency, "facts": facts, "refused": refused,
                                                 "limit_mb": limit / (1024 * 1024)},
                        413 if refused.reason_code == "file_too_large" else 400, account=account)
        upload_id = await run_in_threadpool(uploads.receive_upload, settings, account, agency_code, period,
                                            form.filename or "", form.incoming, client_of(request))
        return RedirectResponse(f"/tai-len/{upload_id}", status_code=303)

    def _facts(agency_code: str, period: str):
        with db() as conn:
            return obligations.form_facts(conn, agency_code, period)

    def _upload_or_404(conn, request: Request, account, upload_id: int):
        found = uploads.fetch_upload(conn, upload_id)
        if found is None or obligations.agency_for(conn, account, found.agency_code) is None:
            with conn.transaction():
                accounts.record_event(conn, "access_denied", account=account, client=client_of(request),
                                      upload_id=upload_id, detail={"path": request.url.path[:200]})
            raise NotFound
        return found

    @app.get("/tai-len/{upload_id}", response_class=HTMLResponse)
    def upload_result(request: Request, upload_id: int):
        with db() as conn:
            account = signed_in(request, conn)
            if account is None:
                return to_sign_in(True)
            found = uploads.sync_state(conn, _upload_or_404(conn, request, account, upload_id))
            agency = obligations.agency_for(conn, account, found.agency_code)
        return page(request, "result.html", {"upload": found, "agency": agency}, account=account)

    @app.post("/tai-len/{upload_id}/nap-ngay", response_class=HTMLResponse)
    async def upload_load_now(request: Request, upload_id: int):
        form = await posted_form(request)
        with db() as conn:
            account = signed_in(request, conn)
            if account is None:
                return to_sign_in(True)
            if form is None:
                return csrf_refused(request, account)
            found = _upload_or_404(conn, request, account, upload_id)
        await run_in_threadpool(uploads.load_now, settings, account, found, client_of(request))
        return RedirectResponse(f"/tai-len/{upload_id}", status_code=303)

    @app.get("/tai-len/{upload_id}/phan-hoi.xlsx")
    def upload_feedback(request: Request, upload_id: int):
        with db() as conn:
            account = signed_in(request, conn)
            if account is None:
                return to_sign_in(True)
            found = _upload_or_404(conn, request, account, upload_id)
        path = Path(found.feedback_path) if found.feedback_path else None
        if path is None or not path.is_file():
            raise NotFound
        return Response(path.read_bytes(),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="phan-hoi-{upload_id}.xlsx"'})

    @app.exception_handler(404)
    async def not_found(request: Request, exc):
        return page(request, "error.html", _not_found(), 404)

    @app.exception_handler(obligations.MartsMissing)
    async def marts_missing(request: Request, exc):
        return page(request, "error.html", {
            "title": "Chưa có số liệu tổng hợp",
            "message_vi": "Kho dữ liệu chưa được tổng hợp (chưa chạy bước dbt); hãy thử lại sau lần chạy hằng ngày.",
            "message_en": str(exc)}, 503)

    return app


def _not_found() -> dict[str, str]:
    return {"title": "Không tìm thấy trang",
            "message_vi": "Trang này không có, hoặc tài khoản của bạn không được xem. Mỗi đơn vị chỉ xem và gửi báo "
                          "cáo của chính mình; đầu mối tỉnh xem các đơn vị của tỉnh.",
            "message_en": "No such page, or your account may not see it."}


def _page_response(templates, request, name: str, context: dict, status: int):
    html = templates.get_template(name).render(request=request, csrf=request.state.csrf, **context)
    return HTMLResponse(html, status_code=status)


def _origin(request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def _vn_time(moment: datetime | None) -> str:
    from planwh.ingest.parsing import VIETNAM_TZ

    if moment is None:
        return ""
    return f"{moment.astimezone(VIETNAM_TZ):%H:%M %d/%m/%Y}"


def _period_label(period: str) -> str:
    if "-Q" in period:
        year, quarter = period.split("-Q")
        return f"Quý {quarter}/{year}"
    return f"Năm {period}"


def _province_summary(conn, agencies) -> dict[str, tuple[int, int]]:
    """agency -> (reports owed and not received, reports received) over the years with a deadline
    passed, from the marts (the province's overview; each agency's page has the live detail)."""
    codes = [a.agency_code for a in agencies]
    rows = conn.execute(
        """
        select agency_code,
            count(*) filter (where is_expected and not is_received and is_past_deadline),
            count(*) filter (where is_received)
        from marts.fct_submission_compliance where agency_code = any(%s) group by agency_code
        """,
        (codes,),
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}
