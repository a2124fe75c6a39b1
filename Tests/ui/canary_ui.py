"""The article's canary release through the web UI, in headless Chromium.

dave (deployer) signs in and creates an instance with canary 1 and batches of 3 in manual mode from
the release form (the plan previewed by the server's planner); the canary stops Smoked out of traffic
with its Pending/Running/Ready/Failed tiles; anna (approver) presses next twice; `triton serve` is
killed and started again mid-release and the open page catches up by itself; anna presses continue
and the page shows Success; vera (viewer) sees no action buttons. Screenshots of the fleet, the
form and the flow mid-release (laptop and phone widths) go to OUT_DIR.

Usage: canary_ui.py TRITON_BINARY DATABASE_URL SCHEMA OUT_DIR
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

TRITON, DATABASE_URL, SCHEMA, OUT = sys.argv[1:5]
os.makedirs(OUT, exist_ok=True)
WORK = tempfile.mkdtemp(prefix="triton-ui-")
TOKENS = {"dave": "ui-deployer-token", "anna": "ui-approver-token", "vera": "ui-viewer-token"}
processes = []


def step(text):
    print(f"[ui] {text}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(arguments, log, marker, timeout=90):
    """Starts a triton process; waits until its log shows `marker`; returns (process, log text)."""
    env = dict(os.environ, TRITON_CONFIG=os.path.join(WORK, "config.json"))
    handle = open(os.path.join(WORK, log), "w")
    process = subprocess.Popen([TRITON] + arguments, stdout=handle, stderr=subprocess.STDOUT, env=env)
    processes.append(process)
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = open(os.path.join(WORK, log)).read()
        if marker in text:
            return process, text
        if process.poll() is not None:
            raise SystemExit(f"{log}: exited with {process.returncode}:\n{text[-3000:]}")
        time.sleep(0.1)
    raise SystemExit(f"{log}: no '{marker}' within {timeout} s:\n{open(os.path.join(WORK, log)).read()[-3000:]}")


def main():
    tokens_file = os.path.join(WORK, "tokens.json")
    with open(tokens_file, "w") as f:
        json.dump({"tokens": [
            {"token": TOKENS["dave"], "user": "dave", "roles": ["deployer"]},
            {"token": TOKENS["anna"], "user": "anna", "roles": ["approver"]},
            {"token": TOKENS["vera"], "user": "vera", "roles": ["viewer"]},
        ]}, f)
    step("starting the simulated cluster")
    _, text = start(["sim", "--port", "0", "--time-scale", "3", "--seed", "7"], "sim.log", "listening on http://127.0.0.1:")
    sim_url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text).group(1)
    namespace = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}).encode()
    urllib.request.urlopen(urllib.request.Request(sim_url + "/api/v1/namespaces", data=namespace, headers={"Content-Type": "application/json"}))
    http_port = free_port()
    serve_arguments = [
        "serve", "--database-url", DATABASE_URL, "--schema", SCHEMA, "--server", sim_url, "--http-port", str(http_port),
        "--grpc-port", "0", "--tokens-file", tokens_file, "--tick-ms", "50", "--state-file", os.path.join(WORK, "serve.json"),
    ]
    step("starting triton serve")
    serve, _ = start(serve_arguments, "serve-1.log", "triton serve running")
    base = f"http://127.0.0.1:{http_port}"

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)

    def shot(name):
        path = os.path.join(OUT, f"{name}.png")
        driver.save_screenshot(path)
        step(f"screenshot {path}")

    def css(selector):
        return driver.find_elements(By.CSS_SELECTOR, selector)

    def until(description, condition, timeout=60):
        def check(_):
            try:
                return condition()
            except (StaleElementReferenceException, IndexError, ValueError, AttributeError):
                return False
        try:
            return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check)
        except TimeoutException:
            shot("failure")
            logs = driver.get_log("browser") if hasattr(driver, "get_log") else []
            raise SystemExit(f"timed out waiting for {description}; browser log: {logs}; page: {driver.find_element(By.TAG_NAME, 'main').text[:2000]}")

    def read(fn):
        """fn() again while the page re-renders under it."""
        for _ in range(50):
            try:
                return fn()
            except StaleElementReferenceException:
                time.sleep(0.05)
        return fn()

    def unlabeled():
        """Form controls a screen reader could not name (no <label for>, aria-label or aria-labelledby)."""
        return driver.execute_script("""
            return [...document.querySelectorAll('input, select, textarea, button')]
              .filter((e) => e.offsetParent !== null)
              .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')
                             && !(e.tagName === 'BUTTON' && e.textContent.trim()))
              .map((e) => e.outerHTML.slice(0, 120));""")

    def sign_in(user):
        driver.get(base + "/ui/#/")
        until("the page", lambda: css("#login-token") or css("#logout:not([hidden])"))
        if not css("#login-token"):
            css("#logout")[0].click()
        until("the sign-in form", lambda: css("#login-token"))
        css("#login-token")[0].send_keys(TOKENS[user])
        css("form.login button[type=submit]")[0].click()
        until(f"{user} signed in", lambda: user in driver.find_element(By.ID, "whoami").text)

    def batch(number):
        found = css(f"li.batch[data-batch='{number}']")
        return found[0] if found else None

    def batch_phase(number):
        element = batch(number)
        return element.get_attribute("data-phase") if element else None

    def tiles(number):
        element = batch(number)
        found = element.find_elements(By.CSS_SELECTOR, ".tiles") if element else []
        return found[0].get_attribute("data-counts") if found else None

    def flow_phase():
        found = css("#flow-phase .badge")
        return found[0].get_attribute("data-phase") if found else None

    def buttons():
        return [b.get_attribute("data-action") for b in css("#actions button[data-action]")]

    def press(action, reason):
        until(f"a {action} button", lambda: action in buttons())
        def type_and_press():
            field = css("#action-reason")[0]
            field.clear()
            field.send_keys(reason)
            css(f"#actions button[data-action='{action}']")[0].click()
        read(type_and_press)

    try:
        step("dave signs in; the fleet is empty")
        sign_in("dave")
        until("the fleet", lambda: css("section.fleet"))

        step("the release form: create web with canary 1, batches of 3, manual")
        driver.get(base + "/ui/#/new")
        until("the form", lambda: css("#f-instance"))
        css("#f-instance")[0].send_keys("web")
        css("#f-image")[0].send_keys("shop/web:v1")
        css("#f-replicas")[0].send_keys("7")
        css("#f-strategy-canary")[0].send_keys("1")
        css("#f-strategy-batchSize")[0].send_keys("3")
        css("#f-strategy-mode option[value=manual]")[0].click()
        css("#f-reason")[0].send_keys("first release of web")
        until("the plan preview", lambda: [c.text.strip() for c in css(".preview .plan .chip")] == ["#1 canary 1", "#2 3 pods", "#3 3 pods"])
        # A bad field is named by the preview, nothing is written.
        css("#f-strategy-batchSize")[0].clear()
        css("#f-strategy-batchSize")[0].send_keys("0")
        until("the batchSize error", lambda: css(".field.invalid[data-field='strategy.batchSize']") and "strategy.batchSize" in css(".preview .error")[0].text)
        css("#f-strategy-batchSize")[0].clear()
        css("#f-strategy-batchSize")[0].send_keys("3")
        until("the plan again", lambda: len(css(".preview .plan .chip")) == 3 and not css(".field.invalid"))
        assert unlabeled() == [], f"unlabeled controls on the form: {unlabeled()}"
        # Keyboard: Tab from the instance field reaches the next control.
        css("#f-instance")[0].send_keys(Keys.TAB)
        assert driver.switch_to.active_element.get_attribute("id") == "f-action", driver.switch_to.active_element.get_attribute("outerHTML")[:200]
        shot("release-form")
        css("form.release button[type=submit]")[0].click()

        step("the flow page: the canary stops Smoked, out of traffic")
        until("the flow page", lambda: css("section.flow #flow-phase"))
        flow_url = driver.current_url
        flow_name = flow_url.rsplit("/", 1)[-1]
        until("batch 1 Smoked", lambda: batch_phase(1) == "Smoked", timeout=90)
        step(f"canary tiles {read(lambda: tiles(1))}")
        until("the canary pod running or ready, none pending or failed", lambda: re.fullmatch(r"0/[01]/[01]/0", tiles(1) or "") and tiles(1) != "0/0/0/0")
        assert "next" not in read(buttons), f"dave created the flow; four-eyes leaves the canary decision to someone else, got {buttons()}"
        shot("flow-canary-smoked")

        step("anna signs in and presses next (pull the canary in)")
        sign_in("anna")
        driver.get(flow_url)
        until("the flow waiting for anna", lambda: "next" in buttons())
        press("next", "canary healthy")
        until("batch 1 Baked", lambda: batch_phase(1) == "Baked", timeout=90)
        until("anna's intent shown on the batch", lambda: "anna" in batch(1).text and "canary healthy" in batch(1).text)

        step("next again: batch 2 starts")
        press("next", "start batch 2")
        # Pods take a few real seconds to start (time scale 3): batch 2 is still on its way at the kill.
        until("batch 2 started", lambda: batch_phase(2) in ("Smoking", "Smoked", "Baking"), timeout=90)
        assert unlabeled() == [], f"unlabeled controls on the flow page: {unlabeled()}"
        shot("flow-mid-release")
        driver.set_window_size(390, 844)
        shot("flow-mid-release-phone")
        driver.set_window_size(1280, 900)

        step(f"killing triton serve mid-release (batch 2 {read(lambda: batch_phase(2))})")
        position_before = read(lambda: int(css("#flow-position")[0].text or "0"))
        serve.send_signal(signal.SIGKILL)
        serve.wait()
        until("the page noticing", lambda: css("#live")[0].get_attribute("data-state") == "reconnecting", timeout=30)
        step("starting triton serve again on the same port")
        serve, _ = start(serve_arguments, "serve-2.log", "triton serve running")
        until("the page live again", lambda: css("#live")[0].get_attribute("data-state") == "live", timeout=60)
        until("the page catching up (batch 2 Baked, the flow waiting for a decision)",
              lambda: batch_phase(2) == "Baked" and "continue" in buttons() and int(css("#flow-position")[0].text or "0") > position_before, timeout=90)

        step("continue: the remaining batches run")
        press("continue", "canary and batch 2 look good")
        until("Success", lambda: flow_phase() == "Success", timeout=120)
        phases = read(lambda: [batch_phase(n) for n in (1, 2, 3)])
        assert phases == ["Baked"] * 3, phases
        until("the timeline", lambda: css("#timeline li[data-type=FlowSucceeded]"))

        step("vera (viewer) sees the flow and no action button")
        sign_in("vera")
        driver.get(flow_url)
        until("the flow for vera", lambda: flow_phase() == "Success")
        assert read(lambda: buttons() == [] and not css("#actions button")), f"a viewer got buttons: {read(buttons)}"
        driver.get(base + "/ui/#/")
        until("the fleet with the flow", lambda: css(f"tr[data-flow='{flow_name}']"))
        shot("fleet")
        step("ok")
    finally:
        driver.quit()
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    main()
