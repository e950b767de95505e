"""Drives the web console in headless Chromium (python3-selenium + chromium-driver),
for tests/e2e/console.sh. One phase per run, each in a fresh browser:

  console_browser.py URL viewer   USER PASSWORD ORDER_KEY
      signs in, sees the held order on the overview and the held page, writes a
      note, presses Replay and sees it refused (viewer).
  console_browser.py URL operator USER PASSWORD ORDER_KEY ORDER_ID
      signs in, replays the held order with a note, then searches the order
      until its JDE document shows as posted (at most 60 s).
  console_browser.py URL csv      USER PASSWORD DAY EXPECTED_CSV DOWNLOAD_DIR
      signs in, opens the day's reconciliation and downloads its CSV, which
      must equal EXPECTED_CSV byte for byte.

Exit 0 when the phase went as described; otherwise prints why and exits 1.
"""
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def browser(download_dir=None):
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1366,800", "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    if download_dir:
        o.add_experimental_option("prefs", {"download.default_directory": download_dir,
                                            "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    if download_dir:
        try:
            d.execute_cdp_cmd("Browser.setDownloadBehavior",
                              {"behavior": "allow", "downloadPath": download_dir})
        except Exception:
            d.execute_cdp_cmd("Page.setDownloadBehavior",
                              {"behavior": "allow", "downloadPath": download_dir})
    return d


def wait(d, what, cond, secs=20):
    try:
        return WebDriverWait(d, secs, poll_frequency=0.2).until(lambda _: cond())
    except Exception:
        sys.exit("timed out waiting for %s; message: %r; page: %s" % (
            what, d.find_element(By.ID, "msg").text, d.find_element(By.TAG_NAME, "main").text[:1500]))


def sign_in(d, url, user, password):
    d.get(url + "/")
    wait(d, "the sign-in form", lambda: d.find_element(By.ID, "login-user").is_displayed())
    d.find_element(By.ID, "login-user").send_keys(user)
    d.find_element(By.ID, "login-password").send_keys(password)
    d.find_element(By.ID, "login-submit").click()
    wait(d, "signed in as " + user, lambda: user in d.find_element(By.ID, "who").text)
    tz = d.find_element(By.ID, "tz").text
    if "time zone" not in tz:
        sys.exit("the server's time zone is not shown: %r" % tz)


def held_row(d, key):
    for b in d.find_elements(By.CSS_SELECTOR, "button.replay"):
        if b.get_attribute("data-key") == key:
            return b
    return None


def open_held(d, key, note):
    d.find_element(By.ID, "nav-held").click()
    wait(d, key + " on the held page", lambda: held_row(d, key) is not None)
    n = d.find_element(By.ID, "held-note")
    n.clear()
    n.send_keys(note)


def viewer(url, user, password, key):
    d = browser()
    try:
        sign_in(d, url, user, password)
        wait(d, "the held count on the overview",
             lambda: d.find_element(By.ID, "jobs-held").text.split("\n")[1] != "0")
        open_held(d, key, "looked at it")
        held_row(d, key).click()
        wait(d, "the refusal", lambda: "refused" in d.find_element(By.ID, "msg").text)
        if "operator" not in d.find_element(By.ID, "msg").text:
            sys.exit("the refusal does not say why: %r" % d.find_element(By.ID, "msg").text)
        d.find_element(By.ID, "logout").click()
        wait(d, "signed out", lambda: d.find_element(By.ID, "login-user").is_displayed())
    finally:
        d.quit()


def operator(url, user, password, key, order_id):
    d = browser()
    try:
        sign_in(d, url, user, password)
        open_held(d, key, "mapping fixed in mlc.yaml")
        held_row(d, key).click()
        wait(d, "the replay", lambda: "Replayed " + key in d.find_element(By.ID, "msg").text)
        d.find_element(By.ID, "nav-orders").click()
        deadline = time.time() + 60
        while True:
            q = d.find_element(By.ID, "order-q")
            q.clear()
            q.send_keys(order_id)
            d.find_element(By.ID, "order-go").click()
            time.sleep(1)
            docs = [p.text for p in d.find_elements(By.CSS_SELECTOR, "#order-result p.doc")]
            if any(" posted: JDE " in t for t in docs):
                break
            if time.time() > deadline:
                sys.exit("order %s not shown posted: %s" % (order_id, d.find_element(By.ID, "order-result").text[:2000]))
        text = d.find_element(By.ID, "order-result").text
        for want in ("console:" + user, "replay", "debit", "credit"):
            if want not in text:
                sys.exit("the order page lacks %r: %s" % (want, text[:2000]))
    finally:
        d.quit()


def csv(url, user, password, day, expected, ddir):
    want = open(expected, "rb").read()
    d = browser(ddir)
    try:
        sign_in(d, url, user, password)
        d.find_element(By.ID, "nav-reports").click()
        el = d.find_element(By.ID, "report-day")
        d.execute_script("arguments[0].value = arguments[1]", el, day)
        d.find_element(By.ID, "report-go").click()
        wait(d, "the report of " + day, lambda: day in d.find_element(By.ID, "report").text)
        d.find_element(By.ID, "report-prev").click()
        wait(d, "the day before: none stored",
             lambda: "no stored reconciliation of" in d.find_element(By.ID, "report").text)
        d.find_element(By.ID, "report-next").click()
        wait(d, "back to " + day, lambda: "Reconciliation of " + day in d.find_element(By.ID, "report").text)
        link = d.find_element(By.ID, "report-csv")
        if not link.get_attribute("href").endswith("/api/report.csv?day=" + day):
            sys.exit("the CSV link is %r" % link.get_attribute("href"))
        link.click()
        path = os.path.join(ddir, "reconcile-%s.csv" % day)
        wait(d, "the downloaded CSV", lambda: os.path.exists(path) and
             not os.path.exists(path + ".crdownload") and os.path.getsize(path) > 0, 30)
        got = open(path, "rb").read()
        if got != want:
            sys.exit("the CSV differs from mlc report show:\n%r\n%r" % (got[:500], want[:500]))
    finally:
        d.quit()


def main(a):
    if len(a) >= 6 and a[2] == "viewer":
        viewer(a[1], a[3], a[4], a[5])
    elif len(a) >= 7 and a[2] == "operator":
        operator(a[1], a[3], a[4], a[5], a[6])
    elif len(a) >= 8 and a[2] == "csv":
        csv(a[1], a[3], a[4], a[5], a[6], a[7])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
