"""The product in Arabic and in English, in a real browser (issue 18).

One walk per language through the pages people and moderators see: log-in (after choosing
the language with the switcher), the feed, the create dialog, the room's join screen, the
call, the waiting room, the Security panel, the confirm dialog and the usage dashboard. On
each page:

- <html lang dir> is the language's, and the page is written in it: in Arabic no Latin-script
  text is left (what people wrote and their names, in translate="no" elements or listed below,
  and the languages' own names in the switcher aside), in English no Arabic-script text;
- axe-core finds no serious or critical violation;
- a screenshot is kept in artifacts/browser/ (languages-<lang>-<page>.png).

The browser asks for the other language (Accept-Language) and has a time zone of its own:
the switcher's choice wins, and room times are written in the person's time zone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import DEMO_PASSWORD, RoomsServer, shot

# Per language: what the browser says it prefers (the other one), its time zone, and the
# room title Alice types (user content, like every name below).
WALKS = {
    "ar": {"browser": "en-US", "zone": "Asia/Riyadh", "title": "أمسية شاي"},
    "en": {"browser": "ar", "zone": "America/New_York", "title": "Tea evening"},
}
# What people wrote and who they are: not UI text, whatever its script.
USER_CONTENT = [
    "Alice Liddell",
    "Bob Marley",
    "Charlie Parker",
    "Dana Scully",
    "Moderator",
    "Gus Guest",
    "Book club: The Hobbit",
    "Chapter 1 to 5. Bring tea.",
    "Jam session (invite only)",
    "Bring an instrument.",
    "Book club on Friday? I'll open a room.",
    "Anyone up for a jam session this week?",
    "Just finished a great record. Recommendations welcome!",
    "The truth is out there.",
    "@alice",
    "@bob",
    "@charlie",
    "@dana",
    "alice",
    "admin",
    "Tea evening",
    "أمسية شاي",
]
# Each language named in itself in the switcher.
AUTONYMS = ["English", "français", "العربيّة"]

FOREIGN_TEXT = """([allowed, script]) => {
  const pattern = script === "latin" ? /[A-Za-z]/ : /[\\u0600-\\u06FF]/;
  const clean = (text) => allowed.reduce((t, a) => t.split(a).join(""), text || "");
  const shown = (el) => (el.closest("select") || el).checkVisibility({ visibilityProperty: true });
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest("script, style, template, noscript") || !shown(el)) continue;
    if (el.closest("[translate='no']")) continue; // marked as not to be translated: user content
    if (pattern.test(clean(node.textContent))) found.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    if (!shown(el) || el.closest("svg")) continue;
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      const value = el.getAttribute(name);
      if (value && pattern.test(clean(value))) found.push(`${name}=${value}`);
    }
  }
  if (pattern.test(clean(document.title))) found.push(`title: ${document.title}`);
  return found;
}"""


def check_page(page: Page, language: str, name: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    shot(page, f"languages-{language}-{name}")
    script = "latin" if language == "ar" else "arabic"
    foreign = page.evaluate(FOREIGN_TEXT, [USER_CONTENT + AUTONYMS, script])
    assert foreign == [], f"{name}: text not in {language}: {foreign}"
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{name} ({language}): {serious}"


def ready(page: Page) -> None:
    expect(page.locator("body[data-ready='true']")).to_be_attached()


def new_context(
    browser: Browser, server: RoomsServer, language: str, *, locale: str | None = None
) -> BrowserContext:
    """A browser set to `locale` (Accept-Language; by default the walk's other language)."""
    walk: dict[str, Any] = WALKS[language]
    context = browser.new_context(
        base_url=server.url,
        viewport={"width": 1280, "height": 800},
        locale=locale or walk["browser"],
        timezone_id=walk["zone"],
        permissions=["camera", "microphone", "clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(15_000)
    return context


def choose_language(page: Page, language: str) -> None:
    """With the header's switcher: the page comes back in that language."""
    page.locator("#language-select").select_option(language)
    page.locator("[data-language-switcher] button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def log_in(page: Page, username: str, path: str = "/accounts/login/") -> None:
    page.goto(path)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("#id_password").press("Enter")


@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_page_speaks_the_chosen_language(
    browser: Browser, rooms_server: RoomsServer, language: str
) -> None:
    walk: dict[str, Any] = WALKS[language]
    contexts: list[BrowserContext] = []
    try:
        # --- Alice, whose browser asks for the other language, picks hers in the switcher.
        contexts.append(new_context(browser, rooms_server, language))
        alice = contexts[-1].new_page()
        alice.goto("/accounts/login/")
        expect(alice.locator("html")).to_have_attribute("lang", walk["browser"][:2])
        choose_language(alice, language)
        check_page(alice, language, "login")
        log_in(alice, "alice")
        alice.wait_for_url(f"{rooms_server.url}/")
        ready(alice)
        check_page(alice, language, "feed")

        # The upcoming room's start: Intl, in her language and her time zone.
        start = alice.locator("#upcoming-list time[data-rooms-start]").first
        expect(start).to_be_visible()
        expected = alice.evaluate(
            """([iso, lang, zone]) => new Intl.DateTimeFormat(lang, {weekday: "short",
                day: "numeric", month: "short", hour: "numeric", minute: "2-digit",
                timeZoneName: "short", timeZone: zone}).format(new Date(iso))""",
            [start.get_attribute("datetime"), language, walk["zone"]],
        )
        expect(start).to_have_text(expected)

        # --- The create dialog, then a room that starts now.
        alice.locator("#create-room-open").click()
        expect(alice.locator("#create-room")).to_be_visible()
        check_page(alice, language, "create-dialog")
        alice.locator("#room-title").fill(walk["title"])
        alice.locator("#create-room-submit").click()
        alice.wait_for_url(re.compile(r"/r/[\w-]+/$"))
        link = alice.url
        expect(alice.locator("#screen-prejoin")).to_be_visible()
        ready(alice)
        check_page(alice, language, "join")
        alice.locator("#join-button").click()
        expect(alice.locator("#screen-room")).to_be_visible()
        check_page(alice, language, "call")

        # --- A guest whose browser speaks the language: the waiting room.
        contexts.append(new_context(browser, rooms_server, language, locale=language))
        guest = contexts[-1].new_page()
        guest.goto(link)
        ready(guest)
        guest.locator("#display-name").fill("Gus Guest")
        guest.locator("#join-button").click()
        expect(guest.locator("#screen-wait")).to_be_visible()
        expect(guest.locator("#wait-heading")).not_to_be_empty()
        check_page(guest, language, "waiting-room")

        # --- The host's Security panel, with the guest waiting.
        expect(alice.locator("#lobby-count")).to_have_text(re.compile(r"\S"))
        alice.locator("#toggle-security").click()
        expect(alice.locator("#panel-security")).to_be_visible()
        expect(alice.locator("#sec-lobby li")).to_have_count(1)
        check_page(alice, language, "security-panel")

        # --- Ending the room asks first: the confirm dialog.
        alice.locator("#sec-end").click()
        expect(alice.locator("#confirm-dialog")).to_be_visible()
        check_page(alice, language, "confirm-dialog")
        alice.locator("#confirm-ok").click()
        expect(alice.locator("#screen-wait")).to_be_visible()

        # --- The moderator's usage dashboard.
        contexts.append(new_context(browser, rooms_server, language, locale=language))
        admin = contexts[-1].new_page()
        log_in(admin, "admin", "/admin/login/?next=/admin/rooms/room/usage/")
        admin.wait_for_url(re.compile(r"/admin/rooms/room/usage/$"))
        check_page(admin, language, "usage-dashboard")
    finally:
        for context in contexts:
            context.close()
