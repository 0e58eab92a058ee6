"""
The page for a Polish browser, on a server whose default is English: labels,
the server's errors beside the form, notices and answers all in Polish, while
a TCP user in the same room reads English.  Debian's chromium through
Selenium, as in test_browser.py (it fails, not skips, without chromium).
"""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.integration.relay import Relay
from tests.integration.test_browser import Server, Terminal, chromium, log_texts, wait

ENGLISH = re.compile(r"\b(the|you|your|are|is|Hello|joined|left|known|Online|Error)\b")


@pytest.fixture(scope="module")
def polish_browser():
    driver = chromium("pl-PL")
    yield driver
    driver.quit()


def test_thePageInPolish(polish_browser, tmp_path):
    browser = polish_browser
    server = Server(tmp_path)
    nc = None
    try:
        nc = Terminal(server.port, "nc_user")
        browser.get(f"http://[::1]:{server.web}/")
        assert browser.execute_script("return navigator.language").startswith("pl")
        assert browser.find_element(By.ID, "enter").text == "Wejdź"
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pl"

        # The server's own error, beside the field, in Polish from the first answer.
        browser.find_element(By.ID, "name").send_keys("zły nick")
        browser.find_element(By.ID, "group").send_keys("GL2")
        browser.find_element(By.ID, "enter").click()
        error = wait(browser, lambda d: d.find_element(By.ID, "name-error").text, "an error")
        assert error == "nick może zawierać tylko litery, cyfry, _ i - (niedozwolony znak: spacja)."
        name = browser.find_element(By.ID, "name")
        name.clear()
        name.send_keys("Ola", Keys.ENTER)
        wait(browser, lambda d: d.find_element(By.ID, "chat").is_displayed(), "the chat view")
        nc.expect(r"\* Ola \(GL2\) joined \(2/50 online\)$")  # nc reads English
        wait(
            browser,
            lambda d: any(t.endswith("Cześć Ola (GL2), jesteś w pokoju (online: 2 osoby z 50). "
                                     "Wpisz /pomoc (/help), aby zobaczyć polecenia.")
                          for t in log_texts(d)),
            "the Polish welcome into the room",
        )  # fmt: skip

        nc.say("hello Ola", "/nick Nc2")
        wait(browser, lambda d: any("hello Ola" in t for t in log_texts(d)), "nc's line")
        wait(browser, lambda d: any("* nc_user zmienia nick na Nc2" in t for t in log_texts(d)),
             "the rename, in Polish")  # fmt: skip
        line = browser.find_element(By.ID, "line")
        line.send_keys("/online", Keys.ENTER)
        wait(browser, lambda d: any("W pokoju (2 osoby z 50)" in t for t in log_texts(d)),
             "/online in Polish")  # fmt: skip
        line.send_keys("dzień dobry", Keys.ENTER)
        nc.expect(r"Ola \(GL2\): dzień dobry$")
        nc.say("/online")
        nc.expect(r"^Online \(2/50\): Nc2 \(GL1\), Ola \(GL2\)$")

        # Nothing English on the page but what nc typed.
        shown = [t for t in log_texts(browser) if "hello Ola" not in t]
        assert [t for t in shown if ENGLISH.search(t)] == []
        assert browser.find_elements(By.CSS_SELECTOR, "#log .error") == []

        # A WebSocket that is refused (a proxy without Host: 403): said in Polish.
        refusing = Relay(server.web, host=b"proxy.invalid")
        try:
            browser.get(f"http://[::1]:{refusing.port}/")
            browser.find_element(By.ID, "name").send_keys("Ewa")
            browser.find_element(By.ID, "group").send_keys("GL1", Keys.ENTER)
            said = wait(browser, lambda d: d.find_element(By.ID, "form-error").text, "why")
            assert said.startswith("Nie można połączyć się z serwerem czatu")
        finally:
            refusing.close()
    finally:
        if nc is not None:
            nc.close()
        server.stop()
