"""Languages (issue 18; docs/i18n.md): every user-facing string marked, the shipped catalogs
complete and in step with the sources, the person's language chosen and remembered, and
messages written in the language of whoever reads them.

The browser side (pages walked in Arabic and English, screenshots, axe-core) is in
tests/browser/test_languages.py.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from config.asgi import application
from feed import services as feed_services
from feed.models import NotificationKind
from rooms import i18n
from rooms import services as room_services
from rooms.adapter import DefaultAdapter
from rooms.models import AuditEvent, Role, RoomState
from tests import i18n_sources
from tests.factories import ParticipantFactory, RoomFactory, UserFactory, befriend
from tests.rooms.socket_client import HOST, ORIGIN, Socket, guest

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = {"ar": 6, "fr": 2}  # shipped besides English, with their number of plural forms
CATALOG_DIRS = (ROOT / "rooms" / "locale", ROOT / "locale")
DOMAINS = ("django", "djangojs")
MAKEMESSAGES_TIMEOUT = 300


# --- Reading catalogs ---------------------------------------------------------------------------


def _unquote(text: str) -> str:
    return bytes(text, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def parse_po(path: Path) -> list[dict[str, Any]]:
    """A .po file's entries: msgctxt, msgid, msgid_plural, msgstr or msgstr[n], flags."""
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] = {"flags": set()}
    key = ""
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {"flags": set()}, ""
            continue
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"', line):
            key = match.group(1)
            entry[key] = _unquote(match.group(2))
        elif match := re.fullmatch(r'"(.*)"', line):
            entry[key] += _unquote(match.group(1))
    return entries


def catalogs() -> list[Path]:
    return [
        base / language / "LC_MESSAGES" / f"{domain}.po"
        for base in CATALOG_DIRS
        for language in LANGUAGES
        for domain in DOMAINS
    ]


def messages_of(path: Path) -> set[tuple[str | None, str, str | None]]:
    return {
        (e.get("msgctxt"), e["msgid"], e.get("msgid_plural")) for e in parse_po(path) if e["msgid"]
    }


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s", text))


def tags(text: str) -> list[str]:
    return re.findall(r"</?[a-z]+\b", text)


# --- Marking: templates, scripts, styles ------------------------------------------------------


def test_every_template_string_is_marked() -> None:
    findings = [
        f for path in i18n_sources.templates() for f in i18n_sources.template_findings(path)
    ]
    assert not findings, "unmarked text in templates:\n" + "\n".join(map(str, findings))


def test_every_script_string_is_marked() -> None:
    findings = [f for path in i18n_sources.scripts() for f in i18n_sources.script_findings(path)]
    assert not findings, "unmarked strings in scripts:\n" + "\n".join(map(str, findings))


def test_the_checks_find_unmarked_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Fine" %}</h1>\n<p>Forgot this one.</p>\n'
        '<button aria-label="Close {{ name }}">&times;</button>\n'
        "{% comment %}Notes are not text.{% endcomment %}<script>let a = 'b c';</script>\n"
    )
    found = [(f.line, f.text) for f in i18n_sources.template_findings(page)]
    assert sorted(line for line, _ in found) == [2, 3]
    script = tmp_path / "module.js"
    script.write_text(
        'import { gettext } from "./lib/i18n.js";\n'
        'el.textContent = gettext("Marked.");\n'
        'el.textContent = "Not marked.";\n'
        "toast(`${name} left the room`);\n"
        'button.append("Join");\n'
        'if (event.key === "Escape") close(); // a key name, not text\n'
        'el.className = "button button--quiet";\n'
        'console.warn("media offer failed");\n'
        "const pattern = /it's not a string/;\n"
        "const label = isMe ? `${name} (you)` : name;\n"
        'const text = on ? "Several can share." : gettext("One at a time.");\n'
        'const o = { "Some Key": 1 };\n'
    )
    lines = [f.line for f in i18n_sources.script_findings(script)]
    assert lines == [3, 4, 5, 10, 11]


def test_styles_use_logical_properties() -> None:
    # Physical left/right would stay put in a right-to-left page (issue 18 found 18 of them).
    physical = re.compile(
        r"(?<![-\w])(margin|padding|border)-(left|right)\b|(?<![-\w])(left|right)\s*:"
        r"|text-align\s*:\s*(left|right)|float\s*:\s*(left|right)"
    )
    sheets = [ROOT / "static" / "css" / "app.css", ROOT / "rooms" / "static" / "rooms" / "css"]
    found = []
    for sheet in sheets:
        for path in [sheet] if sheet.is_file() else sorted(sheet.rglob("*.css")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if physical.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


# --- The shipped catalogs -------------------------------------------------------------------


@pytest.mark.parametrize("path", catalogs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_catalogs_are_complete(path: Path) -> None:
    language = path.parts[-3]
    entries = parse_po(path)
    header = next(e for e in entries if e["msgid"] == "")
    assert "fuzzy" not in header["flags"]
    assert f"Language: {language}\n" in header["msgstr"]
    assert f"nplurals={LANGUAGES[language]};" in header["msgstr"]
    problems = []
    for entry in entries:
        if not entry["msgid"]:
            continue
        name = entry["msgid"][:60]
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {name}")
        if "msgid_plural" in entry:
            forms = [entry.get(f"msgstr[{i}]", "") for i in range(LANGUAGES[language])]
            if not all(forms) or f"msgstr[{LANGUAGES[language]}]" in entry:
                problems.append(f"plural forms: {name}")
            wanted = placeholders(entry["msgid"]) | placeholders(entry["msgid_plural"])
            used = set().union(*(placeholders(f) for f in forms))
            # A form may leave the number out ("دقيقتين": two minutes), never add a name.
            if not used <= wanted or not all(placeholders(f) <= wanted for f in forms):
                problems.append(f"placeholders: {name}")
        else:
            if not entry.get("msgstr"):
                problems.append(f"untranslated: {name}")
            elif placeholders(entry["msgstr"]) != placeholders(entry["msgid"]):
                problems.append(f"placeholders: {name}")
            elif tags(entry["msgstr"]) != tags(entry["msgid"]):
                problems.append(f"markup: {name}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path",
    [p for p in catalogs() if p.parts[-3] == "ar"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_arabic_leaves_nothing_in_english(path: Path) -> None:
    # Only what the msgid itself holds as code may stay Latin: placeholders, markup, JSON
    # names and values of the API ("participant_ids", "invite_only", true/false).
    left = []
    for entry in parse_po(path):
        if not entry["msgid"]:
            continue
        source = entry["msgid"] + " " + entry.get("msgid_plural", "")
        code = set(re.findall(r"[\w]*_[\w]*|\b(?:true|false|all|friends|JSON|UTC)\b", source))
        for key in [k for k in entry if k.startswith("msgstr")]:
            text = re.sub(r"%\(\w+\)s|<[^>]*>", "", entry[key])
            for token in code:
                text = text.replace(token, "")
            if re.search(r"[A-Za-z]", text):
                left.append(f"{entry['msgid'][:50]!r}: {entry[key]!r}")
    assert not left, "\n".join(left)


@pytest.mark.parametrize("path", catalogs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalogs_match_their_sources(path: Path) -> None:
    # The .mo files are committed (the wheel and a clean clone use them as they are): each
    # must say exactly what its .po says. `make messages` compiles them.
    with path.with_suffix(".mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    expected: dict[Any, str] = {}
    for entry in parse_po(path):
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            for i in range(LANGUAGES[path.parts[-3]]):
                expected[(msgid, i)] = entry[f"msgstr[{i}]"]
        else:
            expected[msgid] = entry["msgstr"]
    # The header is compared apart: msgfmt leaves POT-Creation-Date out of it.
    header = expected.pop("")
    assert catalog.pop("").splitlines() == [
        line for line in header.splitlines() if not line.startswith("POT-Creation-Date")
    ]
    assert catalog == expected


@pytest.mark.parametrize(
    ("base", "domain"),
    [(b, d) for b in ("rooms", "site") for d in DOMAINS],
)
def test_catalogs_hold_every_marked_string(tmp_path: Path, base: str, domain: str) -> None:
    """makemessages, run on a copy of the sources, finds exactly the strings the catalogs
    hold: a string marked since the last `make messages`, or one no longer used, fails."""
    assert shutil.which("xgettext"), "GNU gettext is missing: `make gettext` installs it"
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.o", "*.pyc", "*.mo")
    if base == "rooms":
        shutil.copytree(ROOT / "rooms", copy, ignore=ignore)
        extra: list[str] = []
        shipped = ROOT / "rooms" / "locale"
    else:
        copy.mkdir()
        for name in ("accounts", "feed", "config", "templates", "static", "locale"):
            shutil.copytree(ROOT / name, copy / name, ignore=ignore)
        extra = ["--ignore", "rooms"]
        shipped = ROOT / "locale"
    result = subprocess.run(  # noqa: S603 (a fixed command line)
        [
            sys.executable,
            "-P",  # not the copy's own directory first: rooms/selectors.py is not stdlib's
            "-m",
            "django",
            "makemessages",
            "--no-obsolete",
            "-d",
            domain,
            "-l",
            "ar",
            *extra,
        ],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=MAKEMESSAGES_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    extracted = messages_of(copy / "locale" / "ar" / "LC_MESSAGES" / f"{domain}.po")
    committed = messages_of(shipped / "ar" / "LC_MESSAGES" / f"{domain}.po")
    assert sorted(extracted - committed, key=str) == [], "run `make messages`"
    assert sorted(committed - extracted, key=str) == [], "run `make messages`"


# --- Choosing the language ------------------------------------------------------------------


def page_language(response: Any) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', response.content.decode())
    assert match, "no <html lang dir>"
    return match.group(1), match.group(2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "language", "direction", "text"),
    [
        ("ar", "ar", "rtl", "تسجيل الدخول"),
        ("fr-CA,fr;q=0.9", "fr", "ltr", "Se connecter"),
        ("de,en;q=0.5", "en", "ltr", "Log in"),
        ("", "en", "ltr", "Log in"),
    ],
)
def test_the_browser_language_picks_the_page_language(
    accept: str, language: str, direction: str, text: str
) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE=accept).get(reverse("login"))
    assert page_language(response) == (language, direction)
    assert response["Content-Language"] == language
    assert f">{text}<" in response.content.decode()


@pytest.mark.django_db
def test_a_guest_choice_is_remembered_over_the_browser_language() -> None:
    browser = Client(HTTP_ACCEPT_LANGUAGE="ar")
    switched = browser.post(reverse("set_language"), {"language": "fr", "next": reverse("signup")})
    assert switched.status_code == 302 and switched["Location"] == reverse("signup")
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert page_language(browser.get(reverse("login"))) == ("fr", "ltr")


@pytest.mark.django_db
def test_an_account_choice_follows_the_person_to_another_browser(alice: User) -> None:
    first = Client(HTTP_ACCEPT_LANGUAGE="en")
    first.force_login(alice)
    first.post(reverse("set_language"), {"language": "ar", "next": "/"})
    alice.refresh_from_db()
    assert alice.language == "ar"
    # Another browser, which asks for French and has no language cookie.
    second = Client(HTTP_ACCEPT_LANGUAGE="fr")
    second.force_login(alice)
    home = second.get(reverse("feed:home"))
    assert page_language(home) == ("ar", "rtl")
    assert "آخر الأخبار" in home.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("choice", ["xx", "", "ar" * 40])
def test_an_unknown_language_changes_nothing(alice: User, choice: str) -> None:
    browser = Client(HTTP_ACCEPT_LANGUAGE="fr")
    browser.force_login(alice)
    response = browser.post(reverse("set_language"), {"language": choice, "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in browser.cookies
    alice.refresh_from_db()
    assert alice.language == ""
    assert page_language(browser.get(reverse("feed:home"))) == ("fr", "ltr")


def test_the_language_of_a_socket_handshake() -> None:
    cookie = settings.LANGUAGE_COOKIE_NAME.encode()
    assert i18n.language_from_headers([(b"cookie", cookie + b"=ar; x=1")]) == "ar"
    # The cookie (the person's choice) comes before what the browser says.
    both = [(b"accept-language", b"fr"), (b"cookie", cookie + b"=ar")]
    assert i18n.language_from_headers(both) == "ar"
    assert i18n.language_from_headers([(b"accept-language", b"de, fr-CA;q=0.8")]) == "fr"
    assert i18n.language_from_headers([(b"accept-language", b"de, *")]) is None
    assert i18n.language_from_headers([(b"cookie", b"\xff=\xfe; ;;=")]) is None
    assert i18n.language_from_headers([(b"accept-language", b"x" * 5000)]) is None
    assert i18n.language_from_headers([]) is None


@pytest.mark.django_db
def test_the_adapter_says_an_account_language(alice: User) -> None:
    assert DefaultAdapter().language(alice) is None
    assert i18n.language_for(alice) == "en"  # no choice: the site's LANGUAGE_CODE
    alice.language = "fr"
    assert i18n.language_for(alice) == "fr"
    alice.language = "tlh"  # not offered
    assert i18n.language_for(alice) == "en"


# --- Messages in the reader's language ------------------------------------------------------


@pytest.mark.django_db
def test_api_errors_keep_their_code_and_speak_the_request_language(alice: User) -> None:
    from rest_framework.test import APIClient

    api = APIClient(HTTP_ACCEPT_LANGUAGE="ar")
    api.force_authenticate(alice)
    body = {"title": "Tea", "scheduled_start": "2001-01-01T10:00:00Z"}
    refused = api.post("/api/rooms/", body, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "start_in_past", "message": "موعد البدء في الماضي."}
    invalid = api.post("/api/rooms/", {"title": "Tea", "capacity": "many"}, format="json")
    assert invalid.json()["error"]["code"] == "invalid"
    assert invalid.json()["error"]["message"] == "بعض الحقول غير صالحة."


@pytest.mark.django_db
def test_a_pushed_notification_is_in_its_recipient_language(
    alice: User, bob: User, charlie: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed: dict[int, str] = {}
    monkeypatch.setattr(
        feed_services.feed_socket,
        "push",
        lambda user_id, message: pushed.__setitem__(user_id, message["notification"]["text"]),
    )
    User.objects.filter(pk=bob.pk).update(language="ar")
    User.objects.filter(pk=charlie.pk).update(language="fr")
    befriend(alice, bob)
    befriend(alice, charlie)
    room = room_services.room_create(host=alice, title="Tea")
    dana = UserFactory(username="dana", display_name="Dana")  # no choice: the site default
    # Alice's own request is in English; each recipient reads their own language.
    with translation.override("en"), pytest.MonkeyPatch.context() as m:
        m.setattr("django.db.transaction.on_commit", lambda f, robust=False: f())
        feed_services.notifications_create(
            room=room, recipients=[bob, charlie, dana], kind=NotificationKind.ROOM_INVITATION
        )
    assert pushed[bob.pk] == "دعاك Alice إلى «Tea»."
    assert pushed[charlie.pk] == "Alice vous a invité à « Tea »."
    assert pushed[dana.pk] == "Alice invited you to “Tea”."


@pytest.mark.django_db
def test_the_javascript_catalogs_speak_the_page_language() -> None:
    browser = Client(HTTP_ACCEPT_LANGUAGE="ar")
    rooms_catalog = browser.get(reverse("rooms:jsi18n")).content.decode()
    assert "\\u0627\\u0646\\u0636\\u0645\\u0627\\u0645" in rooms_catalog  # انضمام, "Join"
    assert "n==0 ? 0 : n==1 ? 1 : n==2 ? 2" in rooms_catalog  # Arabic's six plural forms
    site_catalog = browser.get(reverse("javascript-catalog")).content.decode()
    assert "Give your room a title." in site_catalog  # the site's own strings are there too


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_channel_layer")
@pytest.mark.parametrize(
    ("accept", "expected"),
    [("ar", "هذا ليس JSON صالحًا."), ("fr", "Ce n\u2019est pas du JSON valide.")],
)
async def test_room_socket_errors_speak_the_socket_language(
    alice: User, accept: str, expected: str
) -> None:
    room = await database_sync_to_async(room_services.room_create)(
        host=alice, title="Tea", waiting_room=False
    )
    joined = await database_sync_to_async(room_services.room_join)(
        token=room.token, identity=guest()
    )
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{room.token}/?ticket={joined.ticket}",
        headers=[HOST, ORIGIN, (b"accept-language", accept.encode())],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    socket = Socket(communicator)
    await socket.send("not json")
    error = await socket.expect("error")
    assert (error["code"], error["message"]) == ("bad_json", expected)
    await socket.close()


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "axis"), [("en", 48), ("fr", 48), ("ar", 720 - 48)])
def test_the_usage_chart_mirrors_and_keeps_svg_numbers(language: str, axis: int) -> None:
    from rooms.dashboard import CHART_LEFT, CHART_WIDTH

    admin = UserFactory(username="moderator", is_staff=True, is_superuser=True)
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(admin)
    page = browser.get(reverse("admin:rooms_usage")).content.decode()
    chart = re.search(r'<svg role="img".*?</svg>', page, re.S)
    assert chart
    # "660,8" would be a list of coordinates to SVG: numbers are never localized here.
    assert not re.findall(r'\b(?:x|y|x1|x2|width|height)="[^"]*,', chart.group(0))
    assert f'<line x1="{axis}" y1="0" x2="{axis}"' in chart.group(0)
    bars = [float(x) for x in re.findall(r'<rect x="([\d.]+)"', chart.group(0))]
    assert len(bars) == 30
    first, last = bars[0], bars[-1]  # the oldest day first: on the left, or on the right in RTL
    assert (first > last) == (language == "ar")
    assert all(0 <= x <= CHART_WIDTH for x in bars) and CHART_LEFT == 48


def test_scripts_import_what_they_translate_with() -> None:
    # A module calling gettext() without importing it fails only when that line runs.
    helpers = ("gettext", "ngettext", "pgettext", "interpolate")
    missing = []
    for path in i18n_sources.scripts():
        source = path.read_text(encoding="utf-8")
        if path.name == "i18n.js":
            continue
        imported = set()
        for names in re.findall(r"import\s*{([^}]*)}\s*from\s*\"[^\"]*i18n\.js\"", source):
            imported.update(name.strip() for name in names.split(","))
        for helper in helpers:
            if re.search(rf"(?<![\w.]){helper}\(", source) and helper not in imported:
                missing.append(f"{path.relative_to(ROOT)}: {helper}")
    assert not missing, "\n".join(missing)


# --- The moderation console -------------------------------------------------------------------


class ShownText(HTMLParser):
    """The text a page shows: text outside scripts and styles, and the attributes read out or
    shown (labels, titles, placeholders, button captions)."""

    SHOWN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[tuple[str, str]] = []  # (where, text)
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template", "noscript"):
            self.hidden += 1
        values = dict(attrs)
        self.texts += [(a, values[a] or "") for a in self.SHOWN_ATTRIBUTES if values.get(a)]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(("value", values["value"] or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "noscript"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.texts.append(("text", data.strip()))


# Django's admin writes these image descriptions itself, untranslated (the search icon's
# "Search" and a boolean icon's Python value): they are Django's text, not ours; left out here.
DJANGO_UNTRANSLATED = {("alt", "Search"), ("alt", "True"), ("alt", "False"), ("alt", "None")}


def django_untranslated(language: str) -> list[re.Pattern[str]]:
    """Django's own admin text that Django's catalog for `language` does not translate (a new
    Django release adds admin strings before its translators catch up: Django 6.1's Arabic
    has no "Pagination %(name)s" or "Run"), as patterns over what the page shows. They are
    Django's to translate, not ours, so the console check lets exactly these through."""
    import gettext

    import django.conf
    import django.contrib.admin

    admin = Path(django.contrib.admin.__file__).parent / "locale"
    core = Path(django.conf.__file__).parent / "locale"  # forms' text, e.g. a select's prompt
    patterns = []
    for locale, domain in ((admin, "django"), (admin, "djangojs"), (core, "django")):
        source = (locale / "en" / "LC_MESSAGES" / f"{domain}.po").read_text(encoding="utf-8")
        catalog = gettext.translation(domain, localedir=locale, languages=[language])
        for msgid in re.findall(r'^msgid "(.+)"$', source, flags=re.M):
            text = msgid.replace('\\"', '"')
            if catalog.gettext(text) != text:
                continue
            pattern = re.sub(r"%\\\(\w+\\\)[sd]", ".+", re.escape(text))
            # Only words: "%(a)s %(b)s" or a lone "S" would let anything through.
            if len(re.findall(r"[A-Za-z]", re.sub(r"%\(\w+\)[sd]", "", text))) >= 2:
                patterns.append(re.compile(pattern))
    return patterns


def latin_text(
    page: str, data: list[str], allowed: list[re.Pattern[str]] | None = None
) -> list[str]:
    """What the page shows in Latin script, once the values in `data` are taken out; texts
    that fully match one of the `allowed` patterns are left out."""
    parser = ShownText()
    parser.feed(page)
    found = []
    for where, text in parser.texts:
        if (where, text) in DJANGO_UNTRANSLATED:
            continue
        if allowed and any(p.fullmatch(text) for p in allowed):
            continue
        left = text
        for value in data:
            left = left.replace(value, "")
        if re.search(r"[A-Za-z]", left):
            found.append(text if where == "text" else f"{where}={text}")
    return found


@pytest.mark.django_db
def test_the_room_console_is_all_in_arabic() -> None:
    """The Room admin's change list (columns, filters, actions) and change form (field labels,
    the participants and audit log inlines) through the real admin URLs, in Arabic: no label
    left in English. Names and titles are Arabic here, so only data may stay Latin: the room's
    link token and the audit log's event codes."""
    host = UserFactory(username="سلمى", display_name="سلمى")
    guest_name = UserFactory(username="كريم", display_name="كريم")
    room = RoomFactory(host=host, title="نادي الكتاب", state=RoomState.OPEN)
    ParticipantFactory(room=room, user=host, role=Role.HOST)
    ParticipantFactory(room=room, user=guest_name)
    AuditEvent.objects.create(room=room, kind="room.created", actor_name="سلمى", version=1)
    staff = UserFactory(username="مشرف", display_name="مشرف", is_staff=True, is_superuser=True)
    browser = Client(HTTP_ACCEPT_LANGUAGE="ar")
    browser.force_login(staff)
    data = [room.token, "room.created"]
    djangos = django_untranslated("ar")

    changelist = browser.get(reverse("admin:rooms_room_changelist"))
    assert changelist.status_code == 200
    assert page_language(changelist) == ("ar", "rtl")
    page = changelist.content.decode()
    for label in ("العنوان", "المضيف", "الجمهور", "تاريخ الإنشاء", "غرفة الانتظار"):
        assert label in page, label
    assert latin_text(page, data, djangos) == [], latin_text(page, data, djangos)

    change = browser.get(reverse("admin:rooms_room_change", args=[room.pk]))
    assert change.status_code == 200
    assert page_language(change) == ("ar", "rtl")
    page = change.content.decode()
    for label in ("موعد البدء", "يمكن للمشاركين مشاركة الشاشة", "المشاركون", "سجل التدقيق"):
        assert label in page, label
    assert room.token in page and "room.created" in page  # the data is there, and let through
    assert latin_text(page, data, djangos) == [], latin_text(page, data, djangos)

    # The check does find English labels: the same change form in English.
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(staff)
    page = english.get(reverse("admin:rooms_room_change", args=[room.pk])).content.decode()
    assert any(text.startswith("Scheduled start") for text in latin_text(page, data))
