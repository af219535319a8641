"""The sender page's defences seen from an HTTP client (no browser needed to send what a browser
never would): CSRF, expiring sessions, the upload limit counted while the body streams, one-time
links, hashes only in the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import web_warehouse as ww
from conftest import UPLOAD_LIMIT_MB

OWN_USER = ww.OWN.lower()


def csrf_of(client: httpx.Client, path: str = "/dang-nhap") -> str:
    page = client.get(path)
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


@contextmanager
def signed_in(site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, follow_redirects=False, timeout=60) as client:
        token = csrf_of(client)
        answer = client.post("/dang-nhap", data={"csrf": token, "username": OWN_USER,
                                                 "password": site.passwords[OWN_USER]})
        assert answer.status_code == 303 and "planwh_session" in client.cookies
        yield client


def incoming(site) -> list[Path]:
    folder = site.settings.web_dir / "incoming"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_post_without_its_csrf_token_is_refused_before_anything_is_read(site) -> None:
    attempts = site.query("select count(*) from web.sign_in_attempts")[0][0]
    with httpx.Client(base_url=site.url, timeout=60) as stranger:
        # a form posted from elsewhere carries no token (and another Origin)
        answer = stranger.post("/dang-nhap", data={"username": OWN_USER, "password": site.passwords[OWN_USER]})
        assert answer.status_code == 403 and "mã chống giả mạo" in answer.text
        answer = stranger.post("/dang-nhap", headers={"Origin": "http://evil.example"},
                               data={"csrf": "0" * 64, "username": OWN_USER, "password": "x"})
        assert answer.status_code == 403
    assert site.query("select count(*) from web.sign_in_attempts")[0][0] == attempts
    with signed_in(site) as client:
        before = incoming(site)
        answer = client.post(f"/don-vi/{ww.OWN}/gui/2025", files={"file": ("bao-cao.csv", b"a;b\n1;2\n")})
        assert answer.status_code == 403
        answer = client.post(f"/don-vi/{ww.OWN}/gui/2025", data={"csrf": "f" * 64},
                             files={"file": ("bao-cao.csv", b"a;b\n1;2\n")})
        assert answer.status_code == 403
        assert incoming(site) == before


def test_a_session_expires(site) -> None:
    with signed_in(site) as client:
        assert client.get(f"/don-vi/{ww.OWN}").status_code == 200
        site.execute("update web.sessions set expires_at = now() - interval '1 second'")
        answer = client.get(f"/don-vi/{ww.OWN}")
        assert answer.status_code == 303 and answer.headers["location"] == "/dang-nhap?het-han=1"
        assert "Phiên đăng nhập đã hết hạn" in client.get(answer.headers["location"]).text


def test_the_upload_limit_is_counted_while_the_body_streams_in(site) -> None:
    with signed_in(site) as client:
        token = csrf_of(client, f"/don-vi/{ww.OWN}/gui/2025")
        boundary = "planwh-test-boundary"

        def body():
            # chunked, no Content-Length: only counting the bytes as they come can stop it
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n"
                   f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lon.csv\"\r\n"
                   "Content-Type: text/csv\r\n\r\n").encode()
            for _ in range(UPLOAD_LIMIT_MB * 8):  # twice the limit
                yield b"1;2\r\n" * (256 * 1024 // 5)
            yield f"\r\n--{boundary}--\r\n".encode()

        answer = client.post(f"/don-vi/{ww.OWN}/gui/2025", content=body(),
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code == 413
    assert f"Tệp vượt quá giới hạn {UPLOAD_LIMIT_MB} MiB" in answer.text
    assert not [p for p in incoming(site) if p.suffix == ".part"], "the partial upload was removed"
    assert site.query("select detail->>'reason_code' from web.audit_events where event = 'upload_refused' "
                      "order by event_id desc limit 1") == [("file_too_large",)]


def test_a_one_time_link_sets_the_password_once_and_only_hashes_are_stored(site) -> None:
    from planwh.db import connect
    from planwh.web.accounts import invite

    with connect(site.settings.warehouse_url, autocommit=True) as conn:
        given = invite(conn, site.settings, province=("48", "Đà Nẵng"))
    token = given.link.rsplit("/", 1)[1]
    with httpx.Client(base_url=site.url, follow_redirects=False, timeout=60) as client:
        path = "/moi/" + token
        assert "Đặt mật khẩu" in client.get(path).text
        csrf = csrf_of(client, path)
        short = client.post(path, data={"csrf": csrf, "password": "ngan", "password_again": "ngan"})
        assert short.status_code == 400 and "ít nhất 10 ký tự" in short.text
        done = client.post(path, data={"csrf": csrf, "password": "mat-khau-dau-moi-48",
                                       "password_again": "mat-khau-dau-moi-48"})
        assert done.status_code == 303
        # the focal point sees the province's agencies, not Hà Nội's
        listing = client.get("/").text
        assert ww.OWN in listing and ww.REPORTED in listing and ww.OTHER not in listing
        assert client.get(f"/don-vi/{ww.POLICE}").status_code == 200
        assert client.get(f"/don-vi/{ww.OTHER}").status_code == 404
        assert "không còn hiệu lực" in client.get(path).text
    stored = " ".join(str(v) for row in site.query("select * from web.invitations") for v in row)
    stored += " ".join(str(v) for row in site.query("select * from web.accounts") for v in row)
    stored += " ".join(str(v) for row in site.query("select * from web.sessions") for v in row)
    assert token not in stored and "mat-khau-dau-moi-48" not in stored
    assert site.query("select password_hash like '$argon2id$%%' from web.accounts where username = 'tinh-48'") == [
        (True,)]


def test_planwh_senders_invite_prints_each_link_once(site, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import argparse

    from planwh.commands.web import run_senders

    for key, value in {"PLANWH_WAREHOUSE_URL": site.settings.warehouse_url,
                       "PLANWH_STATE_DIR": str(site.settings.state_dir),
                       "PLANWH_WEB_BIND": site.settings.web_bind}.items():
        monkeypatch.setenv(key, value)
    args = argparse.Namespace(action="invite", agency=[ww.POLICE], province=None, all=False, password=False)
    assert run_senders(args) == 0
    printed = capsys.readouterr().out
    link = re.search(r"http://\S+/moi/(\S+)", printed)
    assert link and "48-ca" in printed
    assert site.query("select count(*) from web.invitations where token_sha256 = encode(sha256(%s::bytea), 'hex')",
                      (link.group(1).encode(),)) == [(1,)]
    unknown = argparse.Namespace(action="invite", agency=["99-KHONG-CO"], province=None, all=False, password=False)
    assert run_senders(unknown) == 2
