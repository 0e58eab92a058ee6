"""
The page in a real browser: Debian's chromium, driven by Selenium through the
system's chromedriver (nothing is downloaded), against a real
C{twistd chatroom --web} process, with a TCP user in the same room.

Selenium blocks, so these tests don't run on the test reactor: the server is
a child process, the TCP user a plain socket, and every wait is for a
condition, with a deadline.  They fail (not skip) without chromium: CI
installs it.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.integration.relay import Relay
from tests.integration.test_twistd import TWISTD, environment

WAIT = 15.0
XSS = "<img src=x onerror=alert(1)>"


def _find(program: str, *candidates: str) -> str:
    for candidate in (shutil.which(program), *candidates):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"{program} is missing: apt-get install chromium chromium-driver (CI does)")


class Server:
    """C{twistd -n chatroom --port ... --web ...}, its output read line by line."""

    def __init__(self, tmp: Path, port: int = 0, web: int = 0, *extra: str) -> None:
        # Installed (CI: a real pip install), the page comes from the package
        # data in site-packages: this test is also the proof that it ships.
        argv = [TWISTD, "-n", "--pidfile=", "--logfile=-", "chatroom",
                "--port", rf"tcp6:{port}:interface=\:\:1",
                "--web", rf"tcp6:{web}:interface=\:\:1",
                "--rate", "50", "--burst", "100", *extra]  # fmt: skip
        self.process = subprocess.Popen(
            argv, cwd=tmp, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = int(self.expect(r"ChatFactory starting on (\d+)").group(1))
        self.web = int(self.expect(r"Site starting on (\d+)").group(1))

    def _read(self) -> None:
        for raw in self.process.stdout:
            self.lines.put(raw.decode("utf-8", "replace"))
        self.lines.put("")

    def expect(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match
            if line == "":
                break
        raise AssertionError(f"twistd never said {pattern!r}:\n{''.join(self.output)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Terminal:
    """A TCP user, as with nc: a blocking socket and a deadline for each line."""

    def __init__(self, port: int, name: str, group: str = "GL1") -> None:
        self.sock = socket.create_connection(("::1", port), timeout=WAIT)
        self.buffer = b""
        self.seen: list[str] = []
        self.say(name, group)
        self.expect(rf"^Hello {re.escape(name)} ")

    def say(self, *lines: str) -> None:
        self.sock.sendall("".join(line + "\n" for line in lines).encode())

    def expect(self, pattern: str) -> str:
        deadline = time.monotonic() + WAIT
        while True:
            while b"\n" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\n", 1)
                line = raw.rstrip(b"\r").decode("utf-8", "replace").lstrip("\ufffd")
                line = re.sub(r"^[\xff\xfb\xfd\x00]+", "", line)
                self.seen.append(line)
                if re.search(pattern, line):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r}; got {self.seen!r}")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError(f"closed before {pattern!r}; got {self.seen!r}")
            self.buffer += data.replace(b"\xff\xfb\x00", b"").replace(b"\xff\xfd\x00", b"")

    def close(self) -> None:
        self.sock.close()


def chromium(lang: str = "en-US") -> webdriver.Chrome:
    """Headless chromium whose language (navigator.language, Accept-Language) is C{lang}."""
    options = webdriver.ChromeOptions()
    options.binary_location = _find("chromium", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1000,700",
                     f"--lang={lang}"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console
    service = Service(executable_path=_find("chromedriver", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


@pytest.fixture(scope="module")
def browser():
    driver = chromium("en-US")
    yield driver
    driver.quit()


ARTIFACT = Path(__file__).parents[2] / "artifacts" / "web.png"
"""The page's screenshot, where CI and a developer find it (git-ignored)."""

INSIDE = """
const box = document.getElementById(arguments[0]).getBoundingClientRect();
return box.top >= 0 && box.left >= 0 && box.bottom <= window.innerHeight + 0.5
    && box.right <= window.innerWidth + 0.5 && box.height > 0;
"""

STUCK = (
    "const log = document.getElementById('log');"
    "return log.scrollHeight - log.scrollTop - log.clientHeight < 5;"
)


def wait(driver, condition, what: str):
    # The page replaces list items as it goes: an element read mid-change is retried.
    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
        condition, message=what
    )


def log_texts(driver) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#log li")]


def roster(driver) -> list[str]:
    return [
        item.find_element(By.CSS_SELECTOR, ".name").text
        for item in driver.find_elements(By.CSS_SELECTOR, "#roster li")
    ]


def no_alert(driver) -> None:
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    raise AssertionError(f"a script from user text ran: alert {alert.text!r}")


def console_errors(driver) -> list[str]:
    """The console's errors since last asked (a 404, a script error...)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_pageChatsWithTCPSurvivesRestart(browser, tmp_path):
    server = Server(tmp_path, 0, 0, "--max-line", "200")
    nc = None
    try:
        nc = Terminal(server.port, "nc_user", "<i>GL</i>")
        browser.get(f"http://[::1]:{server.web}/")
        # The form, with the server's error beside the field, shown as text.
        browser.find_element(By.ID, "name").send_keys(XSS)
        browser.find_element(By.ID, "group").send_keys("GL2")
        browser.find_element(By.ID, "enter").click()
        error = wait(
            browser,
            lambda d: d.find_element(By.ID, "name-error").text,
            "an error beside the name field",
        )
        assert "<" in error
        name = browser.find_element(By.ID, "name")
        name.clear()
        name.send_keys("Ola", Keys.ENTER)
        wait(browser, lambda d: d.find_element(By.ID, "chat").is_displayed(), "the chat view")
        nc.expect(r"\* Ola \(GL2\) joined")
        wait(browser, lambda d: roster(d) == ["nc_user", "Ola"], "both in the online list")
        assert browser.find_element(By.ID, "count").text == "2/50"

        # Both ways, and user text stays text.  Our own line shows at once,
        # dimmed until the server confirms it.
        line = browser.find_element(By.ID, "line")
        line.send_keys("hello from the browser", Keys.ENTER)
        nc.expect(r"Ola \(GL2\): hello from the browser$")
        wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#log .pending"), "confirmed")
        # The page's files all load: no 404 (the icon) nor script error in the console.
        assert console_errors(browser) == []
        nc.say(XSS)
        wait(browser, lambda d: any(XSS in text for text in log_texts(d)), "the XSS line")
        assert not browser.find_elements(By.CSS_SELECTOR, "#log img")
        assert "<i>GL</i>" in browser.find_element(By.ID, "roster").text
        no_alert(browser)
        nc.say("/msg Ola just for you")
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#log .private"), "private")
        # Up recalls the last line sent.
        line.send_keys(Keys.ARROW_UP)
        assert line.get_attribute("value") == "hello from the browser"
        line.clear()
        # A line the server refuses is struck through, with the reason.
        line.send_keys("z" * 201, Keys.ENTER)
        refused = wait(
            browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#log .refused"), "a refused line"
        )
        assert "too long" in refused[0].find_element(By.CSS_SELECTOR, ".why").text
        assert "line-through" in refused[0].find_element(
            By.CSS_SELECTOR, ".text"
        ).value_of_css_property("text-decoration")

        # The roster follows people coming and going.
        other = Terminal(server.port, "ewa")
        wait(browser, lambda d: roster(d) == ["nc_user", "Ola", "ewa"], "ewa in the list")
        other.say("/quit")
        wait(browser, lambda d: roster(d) == ["nc_user", "Ola"], "ewa gone from the list")
        other.close()

        # Polish labels, and the page has the server speak Polish too (/lang).
        errors = len(browser.find_elements(By.CSS_SELECTOR, "#log .error"))
        browser.find_element(By.ID, "lang").click()
        assert browser.find_element(By.CSS_SELECTOR, "#say button[type=submit]").text == "Wyślij"
        line.send_keys("/online", Keys.ENTER)
        wait(browser, lambda d: any("W pokoju (2 osoby z 50)" in t for t in log_texts(d)), "pl")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#log .error")) == errors
        browser.find_element(By.ID, "lang").click()
        line.send_keys("/online", Keys.ENTER)
        wait(browser, lambda d: any("Online (2/50)" in t for t in log_texts(d)), "back to en")

        # /help's columns line up: its lines are in a monospaced font.
        line.send_keys("/help", Keys.ENTER)
        help_line = wait(
            browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#log .help .text"), "help"
        )
        assert "mono" in help_line[0].value_of_css_property("font-family")

        # Stays at the newest line, unless the reader scrolled up; counts unread
        # lines in the title while the tab is hidden.
        nc.say(*(f"filler {n}" for n in range(40)))
        wait(browser, lambda d: any("filler 39" in t for t in log_texts(d)), "filler")
        assert browser.execute_script(STUCK)

        # A phone-sized window with a long conversation: nothing wider than the
        # screen, the header, the online list and the input inside the window
        # (Help too), and the conversation scrolls, at its newest line.
        for size in ((390, 844), (375, 700)):
            browser.set_window_size(*size)
            assert browser.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"
            )
            for part in ("status", "people", "line", "help", "log"):
                assert browser.execute_script(INSIDE, part), (size, part)
            assert browser.execute_script(
                "const log = document.getElementById('log');"
                "log.scrollTop = log.scrollHeight; return log.scrollHeight > log.clientHeight"
            )
            nc.say(f"newest at {size[0]}")
            wait(
                browser,
                lambda d, w=size[0]: any(f"newest at {w}" in t for t in log_texts(d)),
                "new",
            )
            assert browser.execute_script(STUCK), size
        placeholder = browser.find_element(By.ID, "line").get_attribute("placeholder")
        assert len(placeholder) < 20, placeholder
        browser.set_window_size(1000, 700)
        browser.execute_script("document.getElementById('log').scrollTop = 0")
        nc.say("while scrolled up")
        wait(browser, lambda d: any("while scrolled up" in t for t in log_texts(d)), "line")
        assert browser.execute_script("return document.getElementById('log').scrollTop") == 0
        browser.execute_script(
            "const log = document.getElementById('log'); log.scrollTop = log.scrollHeight;"
            "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
        )
        nc.say("unseen one", "unseen two")
        wait(browser, lambda d: d.title == "(2) chatroom", "the unread count in the title")
        assert browser.execute_script(STUCK)
        browser.execute_script(
            "Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
            "document.dispatchEvent(new Event('visibilitychange'));"
        )
        assert browser.title == "chatroom"

        ARTIFACT.parent.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACT))
        print(f"screenshot: {ARTIFACT}")

        # A restart: the page says so, reconnects and rejoins as Ola (GL2).
        nc.close()
        nc = None
        port, web = server.port, server.web
        server.stop()
        wait(browser, lambda d: "reconnect" in d.find_element(By.ID, "status").text, "lost")
        server = Server(tmp_path, port, web)
        nc = Terminal(server.port, "nc_user")
        server.expect(r"joined: Ola \(GL2\)")
        nc.say("/online")
        assert "Ola (GL2)" in nc.expect(r"^Online \(")
        nc.say("after the restart")
        wait(
            browser,
            lambda d: any("after the restart" in text for text in log_texts(d)),
            "a line after the restart",
        )
        no_alert(browser)
    finally:
        if nc is not None:
            nc.close()
        server.stop()


def test_rejoinsThroughAHalfOpenDropAndSaysWhenRefused(browser, tmp_path):
    """
    The network drops under the page (a relay that goes silent toward the
    server: no FIN, no RST): the page reconnects at once, finds its old
    connection still holding the name, and keeps asking until the server has
    dropped that ghost; it rejoins as the same person, without showing the
    conversation twice.  A page whose WebSocket is refused (a proxy that
    doesn't pass Host on: 403 from the origin check) stops after a few tries
    and says so beside the form.
    """
    server = Server(tmp_path)
    relay = Relay(server.web)
    refusing = Relay(server.web, host=b"proxy.invalid")
    nc = None
    try:
        nc = Terminal(server.port, "nc_user")
        browser.get(f"http://[::1]:{relay.port}/")
        browser.find_element(By.ID, "name").send_keys("Ola")
        browser.find_element(By.ID, "group").send_keys("GL2", Keys.ENTER)
        nc.expect(r"\* Ola \(GL2\) joined")
        nc.say("before the drop")
        wait(browser, lambda d: any("before the drop" in t for t in log_texts(d)), "a line")

        assert relay.half_open() >= 1
        nc.expect(r"\* Ola \(GL2\) left")  # the server dropped the ghost (probed)
        nc.expect(r"\* Ola \(GL2\) joined")  # and the page came back as Ola (GL2)
        wait(browser, lambda d: d.find_element(By.ID, "status").text == "connected", "back")
        assert browser.find_element(By.ID, "chat").is_displayed()
        nc.say("after the rejoin")
        wait(browser, lambda d: any("after the rejoin" in t for t in log_texts(d)), "live again")
        # The replayed history doesn't show "before the drop" a second time.
        assert sum("before the drop" in t for t in log_texts(browser)) == 1

        browser.get(f"http://[::1]:{refusing.port}/")
        browser.find_element(By.ID, "name").send_keys("Ewa")
        browser.find_element(By.ID, "group").send_keys("GL1", Keys.ENTER)
        said = wait(browser, lambda d: d.find_element(By.ID, "form-error").text, "why")
        assert "Can't connect to the chat server" in said
        assert refusing.upgrades == 3
        assert browser.execute_script("return state.wanted === false && state.ws === null")
        assert browser.find_element(By.ID, "join").is_displayed()
        server.expect(r"refused a WebSocket from http://\[::1\]:\d+: origin not allowed")
    finally:
        relay.close()
        refusing.close()
        if nc is not None:
            nc.close()
        server.stop()
