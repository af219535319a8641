"""Open the dashboard in headless Chromium, wait until every chart has drawn, and report what it shows.

Run by `make bi-check` (planwh.bi) with the Python of the Superset virtual environment, whose
Selenium (pinned by Superset's own packaging) drives Debian's /usr/bin/chromium through
/usr/bin/chromedriver. Prints one JSON document: per chart its title, whether it drew, the error
or empty-result text it shows, and every query the dashboard sent for it (from Chromium's network
log), then writes the screenshot of the whole dashboard.

    python browser_check.py --base-url http://127.0.0.1:8099 --dashboard plan-progress \\
        --user admin --password-env SUPERSET_ADMIN_PASSWORD --screenshot out.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
# Tall enough that every chart is in view: Superset 4.1 draws only the charts on screen.
WINDOW = (1600, 4600)

# Per chart holder: its title, whether it is still loading, what it shows.
CHART_STATE = """
return Array.from(document.querySelectorAll('.dashboard-component-chart-holder, .chart-slice')).filter(
  holder => holder.classList.contains('chart-slice')
).map(holder => {
  const title = holder.querySelector('.header-title');
  const text = holder.innerText || '';
  const alert = holder.querySelector('[role="alert"], .error-body, .ant-alert-error, .alert-danger');
  const loading = holder.querySelector('.loading');
  const emptyMatch = text.match(/.*No results.*/i);
  return {
    title: title ? title.innerText.trim() : '',
    loading: !!loading,
    error: alert ? alert.innerText.trim().slice(0, 500) : null,
    empty: emptyMatch ? emptyMatch[0] : null,
    canvases: holder.querySelectorAll('canvas').length,
    table_rows: holder.querySelectorAll('table tbody tr').length,
    table_cells: holder.querySelectorAll('table td').length,
    coloured_cells: Array.from(holder.querySelectorAll('td')).filter(td => td.style.backgroundColor).length,
  };
});
"""


def drawn(chart: dict) -> bool:
    return chart["canvases"] > 0 or chart["table_rows"] > 0 or chart["table_cells"] > 0


def chart_data_requests(driver: webdriver.Chrome) -> tuple[list[dict], list[dict]]:
    """The POSTs to /api/v1/chart/data seen in Chromium's network log, and their responses."""
    requests, responses = [], []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            request = params.get("request", {})
            if "/api/v1/chart/data" in request.get("url", "") and request.get("method") == "POST":
                body = request.get("postData")
                if body is None:
                    try:
                        body = driver.execute_cdp_cmd("Network.getRequestPostData",
                                                      {"requestId": params["requestId"]})["postData"]
                    except Exception:  # noqa: BLE001 - a body Chromium no longer holds is reported as missing
                        body = None
                requests.append({"request_id": params["requestId"], "body": json.loads(body) if body else None})
        elif message.get("method") == "Network.responseReceived":
            response = params.get("response", {})
            if "/api/v1/chart/data" in response.get("url", ""):
                responses.append({"request_id": params["requestId"], "status": response.get("status")})
    return requests, responses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--dashboard", required=True, help="slug or id")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-env", required=True)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    profile = tempfile.mkdtemp(prefix="planwh-bi-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    result: dict = {"charts": [], "requests": [], "responses": []}
    try:
        driver.set_window_size(*WINDOW)
        driver.get(f"{args.base_url}/login/")
        driver.find_element(By.ID, "username").send_keys(args.user)
        driver.find_element(By.ID, "password").send_keys(os.environ[args.password_env])
        driver.find_element(By.CSS_SELECTOR, "[type=submit]").click()
        deadline = time.monotonic() + 30
        while "/login" in driver.current_url and time.monotonic() < deadline:
            time.sleep(0.5)
        started = time.monotonic()
        driver.get(f"{args.base_url}/superset/dashboard/{args.dashboard}/?standalone=1")
        deadline = started + args.timeout
        charts: list[dict] = []
        settled_since = None
        while time.monotonic() < deadline:
            charts = driver.execute_script(CHART_STATE)
            settled = bool(charts) and all(not c["loading"] and (drawn(c) or c["error"] or c["empty"]) for c in charts)
            if settled:
                # echarts animates and tables paginate: wait for a second settled look
                settled_since = settled_since or time.monotonic()
                if time.monotonic() - settled_since >= 3:
                    break
            else:
                settled_since = None
            time.sleep(1)
        result["seconds_to_draw"] = round(time.monotonic() - started, 1)
        result["timed_out"] = time.monotonic() >= deadline
        result["charts"] = [{**c, "drawn": drawn(c)} for c in charts]
        result["requests"], result["responses"] = chart_data_requests(driver)
        result["console_errors"] = [
            entry["message"][:300] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"
        ]
        driver.save_screenshot(args.screenshot)
    finally:
        driver.quit()
    json.dump(result, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
