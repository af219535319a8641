"""The sender page in Debian's Chromium (Selenium with Debian's chromedriver): a sender signs in,
downloads the form, fills it in with openpyxl, uploads it, reads the answer and sees what it owes
change; another agency's pages and uploads stay out of reach, URL tampering included; wrong
passwords are slowed down; hostile files are refused with a Vietnamese reason, never a crash.
A screenshot of each page is kept in ``test-artefacts/web/``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import web_warehouse as ww
from conftest import UPLOAD_LIMIT_MB
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

OWN_USER = ww.OWN.lower()
OTHER_USER = ww.OTHER.lower()


def click_and_wait(driver, element_id: str) -> None:
    """Click a button or link and wait for the page it leads to."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 60).until(staleness_of(old))


def sign_in(driver, site, username: str, password: str) -> None:
    driver.get(site.url + "/dang-nhap")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_wait(driver, "sign-in")


def text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def shot(driver, artefacts: Path, name: str) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 700), 4000))
    driver.save_screenshot(str(artefacts / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def downloaded(folder: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == ".xlsx"]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"nothing was downloaded into {folder}")


def fill(form: Path, target: Path, values: dict[str, object] | None = None, *, date: datetime | None = None) -> int:
    """Fill the form as a clerk would, with openpyxl: a value in every row (``values`` by measure or
    task code, else a count), the report's date once. Returns the rows filled."""
    values = values or {}
    book = openpyxl.load_workbook(form)
    sheet = book["Biểu 01"]
    filled = 0
    for row in sheet.iter_rows(min_row=10):
        number, code, task = row[0].value, row[5].value, row[7].value
        if not isinstance(number, int) or not code:
            continue
        key = task or code
        if key in values:
            row[8].value = values[key]
        elif code == "spokesperson_mechanism":
            row[8].value = 1
        elif code == "task_status":
            row[8].value = 2
        else:
            row[8].value = 10 + number
        filled += 1
    sheet["K10"] = date or datetime(2025, 11, 28)
    book.save(target)
    return filled


def upload(driver, site, agency: str, period: str, path: Path) -> None:
    driver.get(f"{site.url}/don-vi/{agency}/gui/{period}")
    driver.find_element(By.ID, "file").send_keys(str(path))
    click_and_wait(driver, "send")


def report_row(driver, period: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f'#reports tr[data-period="{period}"]').text


# ------------------------------------------------------------------------------------------------


def test_a_sender_downloads_the_form_uploads_it_reads_the_answer_and_sees_the_debt_list_change(
    site, browser, downloads: Path, tmp_path: Path, artefacts: Path,
) -> None:
    # GIVEN the Sở VH-TT-DL, which owes its 2025 report (due 30/11/2025) and leads task 3.4
    browser.get(site.url + "/")
    shot(browser, artefacts, "01-sign-in")
    assert "Đăng nhập" in text(browser)
    sign_in(browser, site, OWN_USER, site.passwords[OWN_USER])
    assert browser.current_url.endswith(f"/don-vi/{ww.OWN}")
    shot(browser, artefacts, "02-what-i-owe")
    assert "Chưa gửi, đã quá hạn" in report_row(browser, "2025") and "30/11/2025" in report_row(browser, "2025")
    owed_before = browser.find_element(By.ID, "owed-count").text
    assert "3.4" in browser.find_element(By.ID, "tasks").text

    # WHEN it downloads its form
    browser.find_element(By.CSS_SELECTOR, '#reports tr[data-period="2025"] a[href$="/gui/2025"]').click()
    shot(browser, artefacts, "03-upload-page")
    browser.find_element(By.ID, "download-form").click()
    form = downloaded(downloads)
    # THEN it is the agency's own, pre-filled: code, name, province, period, its measures and tasks
    sheet = openpyxl.load_workbook(form)["Biểu 01"]
    assert (sheet["B10"].value, sheet["C10"].value, sheet["D10"].value, sheet["E10"].value) == (
        "48", ww.OWN, ww.OWN_NAME, "Năm 2025")
    codes = [sheet.cell(r, 6).value for r in range(10, sheet.max_row + 1) if isinstance(sheet.cell(r, 1).value, int)]
    tasks = [sheet.cell(r, 8).value for r in range(10, sheet.max_row + 1) if sheet.cell(r, 6).value == "task_status"]
    # the department's measures (what the other department reported), then the tasks it leads
    assert set(codes) - {"task_status"} == {"spokesperson_mechanism", "staff_hr_officials", "staff_info_officials",
                                             "products_total", "products_digital_platform"}
    assert "3.4" in tasks
    assert sheet.data_validations.dataValidation, "the value cells carry data validation"
    assert any("quyền con người" in str(c.value).lower() for row in sheet.iter_rows(max_row=6) for c in row)

    # WHEN it fills the form with a mistake (a percentage for a count) and uploads it
    wrong = tmp_path / "bao-cao-sai.xlsx"
    fill(form, wrong, {"products_total": "75%"})
    upload(browser, site, ww.OWN, "2025", wrong)
    shot(browser, artefacts, "04-answer-with-a-problem")
    # THEN the answer names the row, the column, the value and how to fix it, in Vietnamese
    problems = browser.find_element(By.ID, "problems").text
    assert "75%" in problems and "Giá trị" in problems and "tỷ lệ" in problems.lower()
    assert "ĐÃ TIẾP NHẬN" in browser.find_element(By.ID, "verdict").text
    browser.find_element(By.ID, "feedback").click()
    time.sleep(0.5)

    # WHEN it corrects the file and uploads it again
    right = tmp_path / "bao-cao.xlsx"
    filled = fill(form, right)
    upload(browser, site, ww.OWN, "2025", right)
    shot(browser, artefacts, "05-answer")
    verdict = browser.find_element(By.ID, "verdict").text
    assert f"ĐÃ TIẾP NHẬN: {filled} dòng số liệu sẽ được nạp" in verdict and "từ chối" not in verdict
    summary = browser.find_element(By.ID, "summary").text
    assert f"= {filled} dòng số liệu sẽ được nạp + 0 dòng sẽ bị từ chối" in summary
    # the rows that will load, each with its measure's name and value
    rows = browser.find_elements(By.CSS_SELECTOR, "#rows tbody tr")
    assert len(rows) == filled and "3.4" in browser.find_element(By.ID, "rows").text
    assert "Tổng số sản phẩm truyền thông về quyền con người" in browser.find_element(By.ID, "rows").text
    upload_url = browser.current_url
    # THEN it is in the landing folder under a name the server chose, registered for the next run
    received = site.query("select r.path, r.taken_at from web.uploads as u join landing.receptions as r "
                          "using (reception_id) where u.state = 'received' order by u.upload_id desc limit 1")
    assert received and received[0][0].startswith("web/web-") and received[0][1] is None
    assert (site.settings.landing_dir / "submissions" / received[0][0]).is_file()
    browser.get(f"{site.url}/don-vi/{ww.OWN}")
    assert "Đã tiếp nhận, chờ nạp" in report_row(browser, "2025")

    # WHEN it loads the file at once
    browser.get(upload_url)
    click_and_wait(browser, "load-now")
    shot(browser, artefacts, "06-loaded")
    assert "ĐÃ NẠP" in browser.find_element(By.ID, "verdict").text
    loaded = site.query("select status, rows_loaded, rows_rejected, agency_code, period, is_current_version "
                        "from landing.files where reception_id = (select reception_id from landing.receptions "
                        "where path = %s)", (received[0][0],))
    assert loaded == [("loaded", filled, 0, ww.OWN, "2025", True)]
    # THEN the debt list changed: the report received, task 3.4 completed from that file
    browser.get(f"{site.url}/don-vi/{ww.OWN}")
    shot(browser, artefacts, "07-what-i-owe-after")
    assert "Đã nhận" in report_row(browser, "2025")
    task = browser.find_element(By.CSS_SELECTOR, '#tasks tr[data-task="3.4"]').text
    assert "Hoàn thành" in task
    assert browser.find_element(By.ID, "owed-count").text != owed_before
    # every sign-in and upload is in the audit
    events = [r[0] for r in site.query("select event from web.audit_events where username = %s order by event_id",
                                       (OWN_USER,))]
    assert events[0] == "password_issued" and "sign_in" in events and "form_downloaded" in events
    assert events.count("upload_received") == 2 and "upload_loaded" in events


def test_another_agencys_report_cannot_be_seen_or_uploaded(site, browser, tmp_path: Path, artefacts: Path) -> None:
    # GIVEN an upload of Hà Nội's Sở TT&TT
    sign_in(browser, site, OTHER_USER, site.passwords[OTHER_USER])
    assert browser.current_url.endswith(f"/don-vi/{ww.OTHER}")
    other_file = tmp_path / "ha-noi.csv"
    other_file.write_bytes(ww.csv_bytes([ww.SUBMISSION_HEADER, ["01", ww.OTHER, "Sở TT&TT Hà Nội", "2025",
                                                                 "products_total", "5", "", "", "28/11/2025"]]))
    upload(browser, site, ww.OTHER, "2025", other_file)
    other_upload = browser.current_url
    assert "/tai-len/" in other_upload
    browser.delete_all_cookies()

    # WHEN the Sở VH-TT-DL of Đà Nẵng tampers with the addresses
    sign_in(browser, site, OWN_USER, site.passwords[OWN_USER])
    landing_before = sorted(p.name for p in (site.settings.landing_dir / "submissions").rglob("*") if p.is_file())
    for path in (f"/don-vi/{ww.OTHER}", f"/don-vi/{ww.OTHER}?nam=2025", f"/don-vi/{ww.OTHER}/bieu-mau/2025",
                 f"/don-vi/{ww.OTHER}/gui/2025", other_upload.removeprefix(site.url),
                 other_upload.removeprefix(site.url) + "/phan-hoi.xlsx", f"/don-vi/{ww.POLICE}"):
        browser.get(site.url + path)
        # THEN each answers "not found", the same as a page that does not exist
        assert "Không tìm thấy trang" in text(browser), path
        assert "Sở Thông tin và Truyền thông thành phố Hà Nội" not in text(browser)
    shot(browser, artefacts, "08-someone-elses-page")
    # an upload to another agency's address, with the sender's own session and token, is refused too
    browser.get(f"{site.url}/don-vi/{ww.OWN}/gui/2025")
    browser.execute_script("document.querySelector('form[enctype]').action = arguments[0]",
                           f"/don-vi/{ww.OTHER}/gui/2025")
    browser.find_element(By.ID, "file").send_keys(str(other_file))
    click_and_wait(browser, "send")
    assert "Không tìm thấy trang" in text(browser)
    # and a file holding another agency's rows, sent to its own address, is refused whole
    upload(browser, site, ww.OWN, "2025", other_file)
    shot(browser, artefacts, "09-someone-elses-rows")
    verdict = browser.find_element(By.ID, "verdict").text
    assert "KHÔNG TIẾP NHẬN" in verdict and ww.OTHER in verdict
    landing_after = sorted(p.name for p in (site.settings.landing_dir / "submissions").rglob("*") if p.is_file())
    assert landing_after == landing_before, "nothing of another agency reached the landing folder"
    denied = site.query("select count(*) from web.audit_events where event = 'access_denied' and username = %s",
                        (OWN_USER,))[0][0]
    assert denied >= 7


def test_five_wrong_passwords_are_slowed_down(site, browser, artefacts: Path) -> None:
    # GIVEN four wrong passwords: each is answered at once
    for attempt in range(1, 5):
        sign_in(browser, site, OTHER_USER, f"sai-mat-khau-{attempt}")
        assert "Tên đăng nhập hoặc mật khẩu không đúng" in text(browser)
        assert "phải chờ" not in text(browser), attempt
    # WHEN the fifth is wrong too
    sign_in(browser, site, OTHER_USER, "sai-mat-khau-5")
    # THEN the next attempt must wait, and even the right password is refused until then
    assert "lần thử tiếp theo phải chờ 30 giây" in text(browser)
    sign_in(browser, site, OTHER_USER, site.passwords[OTHER_USER])
    shot(browser, artefacts, "10-slowed-down")
    message = browser.find_element(By.ID, "slowed-down").text
    assert "Đăng nhập sai quá nhiều lần" in message and "giây" in message
    assert "/dang-nhap" in browser.current_url
    outcomes = [r[0] for r in site.query("select outcome from web.sign_in_attempts where username = %s "
                                         "order by attempt_id", (OTHER_USER,))][-6:]
    assert outcomes == ["wrong_password"] * 5 + ["throttled"]
    # WHEN the wait has passed (the attempts moved half a minute back)
    site.execute("update web.sign_in_attempts set attempted_at = attempted_at - interval '31 seconds' "
                 "where username = %s", (OTHER_USER,))
    sign_in(browser, site, OTHER_USER, site.passwords[OTHER_USER])
    # THEN the right password signs in
    assert browser.current_url.endswith(f"/don-vi/{ww.OTHER}")


def test_hostile_files_uploaded_through_the_page_are_refused_with_a_vietnamese_reason(
    site, browser, tmp_path: Path, artefacts: Path,
) -> None:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("hostile_files", Path(__file__).parents[1] / "reliability" /
                                                  "hostile_files.py")
    hostile = sys.modules.setdefault("hostile_files", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(hostile)
    row = ["48", ww.OWN, ww.OWN_NAME, "2025", "products_total", "NOTE", "", "NOTE", "28/11/2025"]
    plain = hostile.workbook(tmp_path / "plain.xlsx", ww.SUBMISSION_HEADER, [row])
    linked = hostile.workbook(tmp_path / "linked.xlsx", ww.SUBMISSION_HEADER, [row[:5] + [""] + row[6:]],
                              {"F2": ("=[1]Sheet1!A1", "7")})
    macro = hostile.rewrite(plain, tmp_path / "bao-cao.xlsm", lambda name, data: data,
                            {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really"})
    files = {
        "zip-bomb.xlsx": (hostile.zip_bomb(tmp_path / "zip-bomb.xlsx"), "nén"),
        "lying-zip.xlsx": (hostile.lying_zip(plain, tmp_path / "lying-zip.xlsx"), "không đọc được"),
        "xxe.xlsx": (hostile.with_xml_entity(plain, tmp_path / "xxe.xlsx", "xl/sharedStrings.xml", hostile.XXE),
                     "không đọc được"),
        "laughs.xlsx": (hostile.with_xml_entity(plain, tmp_path / "laughs.xlsx", "xl/worksheets/sheet1.xml",
                                                hostile.BILLION_LAUGHS), "không đọc được"),
        "external-link.xlsx": (hostile.with_external_link(linked, tmp_path / "external-link.xlsx"), None),
        "macro.xlsm": (macro, "macro"),
        "report.pdf": (_write(tmp_path / "report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "PDF"),
        "program.exe": (_write(tmp_path / "bao-cao.xlsx.exe", b"MZ\x90\x00" + b"\x00" * 200), "chương trình"),
        "empty.csv": (_write(tmp_path / "empty.csv", b""), "rỗng"),
        "too-large.csv": (_write(tmp_path / "too-large.csv", b"a;" * (UPLOAD_LIMIT_MB * 1024 * 1024)),
                          f"{UPLOAD_LIMIT_MB} MiB"),
    }
    sign_in(browser, site, OWN_USER, site.passwords[OWN_USER])
    landing_before = sorted(p.name for p in (site.settings.landing_dir / "submissions").rglob("*") if p.is_file())
    for label, (path, expected) in files.items():
        upload(browser, site, ww.OWN, "2025", path)
        page = text(browser)
        shot(browser, artefacts, f"11-hostile-{label.replace('.', '-')}")
        assert "Internal Server Error" not in page, label
        if label == "external-link.xlsx":
            # read as data only: the cached value, never the linked file
            assert "ĐÃ TIẾP NHẬN: 1 dòng" in browser.find_element(By.ID, "verdict").text, page
            continue
        refusal = (browser.find_element(By.ID, "refused") if label == "too-large.csv"
                   else browser.find_element(By.ID, "verdict")).text
        assert ("KHÔNG TIẾP NHẬN" in refusal or label == "too-large.csv") and expected in refusal, (label, refusal)
    landing_after = [p.name for p in (site.settings.landing_dir / "submissions").rglob("*") if p.is_file()]
    assert len(landing_after) == len(landing_before) + 1, "only the workbook with an external link was received"
    # every refused file is kept as sent, under a name the server chose
    kept = sorted((site.settings.web_dir / "kept").iterdir())
    assert all(p.name.startswith("upload-") for p in kept) and len(kept) >= len(files) - 2
    assert not list((site.settings.web_dir / "incoming").glob("*")), "nothing is left half-written"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("path", ["/dang-nhap", "/", "/don-vi/48-SVHTTDL", "/static/style.css", "/khong-co"])
def test_every_answer_carries_the_security_headers(site, path: str) -> None:
    import httpx

    response = httpx.get(site.url + path, follow_redirects=False)
    csp = response.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers  # served over plain HTTP here
    assert "<script" not in response.text.lower()
