"""The door-staff page /scan in real headless Chromium: keyboard wedge, camera, offline queue.

Each test leaves screenshots of the result screens in test-artifacts/browser/ and prints how long
each scan took from the scan (Enter pressed, or QR decoded) to the result being on screen.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import PHONE
from tests.browser.helpers import Door, qr_y4m, query, record_timings, seed_course_door, seed_door

pytestmark = pytest.mark.browser

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def open_scan_page(
    browser: Any, server: Any, console: list[str], *, init_script: str | None = None, **options: Any
) -> tuple[Any, Any]:
    options = {"locale": "zh-CN", **PHONE, **options}
    context = browser.new_context(base_url=server.url, **options)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.goto("/scan")
    return context, page


def sign_in_and_pick_event(page: Any, door: Door, shot: Any = None) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#view-signin")).to_be_visible()
    page.fill("#token-input", door.token)
    page.click("#signin-button")
    choice = page.locator(f'#event-list button[data-event-id="{door.event_id}"]')
    expect(choice).to_be_visible()
    if shot:
        shot(page, "a0-event-picker")
    choice.click()
    expect(page.locator("#view-scan")).to_be_visible()
    expect(page.locator("#event-title")).to_have_text(door.title)
    expect(page.locator("#scan-input")).to_be_focused()


def wedge(page: Any, code: str) -> None:
    """What a keyboard-wedge scanner does: type the characters into whatever has focus, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def result_number(page: Any, n: int, timeout: float = 10_000) -> dict[str, Any]:
    """Wait until the n-th result is on screen; its {seq, ms, result, offline, source}."""
    page.wait_for_function("n => window.__scan && window.__scan.count >= n", arg=n, timeout=timeout)
    return page.evaluate("() => window.__scan.last")


def dismiss_result(page: Any) -> None:
    from playwright.sync_api import expect

    if page.locator("#result").is_visible():
        page.locator("#result").click()
    expect(page.locator("#result")).to_be_hidden()


def stats(server: Any, door: Door) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/api/v1/events/{door.event_id}/stats", headers={"Authorization": f"Bearer {door.token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def scans_of(server: Any, door: Door) -> list[tuple]:
    return query(
        server.settings,
        "SELECT scan_id, result, registration_id, offline, scanned_at, device, gate FROM checkin_scan "
        "WHERE event_id = ? ORDER BY id",
        door.event_id,
    )


def attendance_of(server: Any, door: Door) -> list[tuple]:
    return query(
        server.settings, "SELECT registration_id FROM attendance WHERE event_id = ? ORDER BY id", door.event_id
    )


# --- (a) keyboard wedge ------------------------------------------------------------------------


def test_keyboard_wedge_from_sign_in_to_recorded_check_in(server, launch, artifacts, console_log):
    from playwright.sync_api import expect

    door = seed_door(server.settings, [("刘洋", "武汉光谷生物城"), ("陈静", "华中科技大学"), ("王磊", None)])
    browser = launch()
    context, page = open_scan_page(browser, server, console_log)
    expect(page.locator("#view-signin h1")).to_have_text("检票员登录")

    # A wrong token is refused on the sign-in screen.
    page.fill("#token-input", "wch_not-a-real-token")
    page.click("#signin-button")
    expect(page.locator("#signin-error")).to_be_visible()
    artifacts(page, "a0-sign-in-refused")
    sign_in_and_pick_event(page, door, artifacts)
    assert page.evaluate("() => localStorage.getItem('wuchuang.scan.token')") == f'"{door.token}"'
    expect(page.locator("#count-confirmed")).to_have_text("3")
    expect(page.locator("#count-in")).to_have_text("0")

    liu = door.people[0]
    wedge(page, liu.code)
    first = result_number(page, 1)
    assert first["result"] == "ok" and first["offline"] is False
    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#result-title")).to_have_text("签到成功")
    expect(page.locator("#result-name")).to_have_text("刘洋")
    expect(page.locator("#result-org")).to_have_text("武汉光谷生物城")
    expect(page.locator("#result-reason")).to_have_text("欢迎，刘洋！")
    expect(page.locator("#result-offline")).to_be_hidden()
    artifacts(page, "a1-wedge-ok")
    expect(page.locator("#count-in")).to_have_text("1")

    # Focus wandered off (a tap on the result, a tap on the counters): the scanner still types into the field.
    dismiss_result(page)
    page.locator(".counters").click()
    wedge(page, liu.code)
    again = result_number(page, 2)
    assert again["result"] == "already_checked_in"
    expect(result).to_have_class(re.compile(r"\bwarn\b"))
    expect(page.locator("#result-title")).to_have_text("已签到过")
    expect(page.locator("#result-reason")).to_contain_text("签到")
    artifacts(page, "a2-wedge-already-checked-in")

    wedge(page, "WC1.this-is-not-a-ticket")
    garbage = result_number(page, 3)
    assert garbage["result"] == "invalid"
    expect(result).to_have_class(re.compile(r"\bbad\b"))
    expect(page.locator("#result-title")).to_have_text("无效门票")
    expect(page.locator("#result-reason")).to_have_text("这不是有效的门票。")
    artifacts(page, "a3-wedge-invalid")

    # Recorded: one check-in, three scans in the audit log, each with the page's scan_id.
    assert stats(server, door)["checked_in"] == 1
    assert attendance_of(server, door) == [(liu.registration_id,)]
    rows = scans_of(server, door)
    assert [r[1] for r in rows] == ["ok", "already_checked_in", "invalid"]
    assert all(UUID.match(r[0]) for r in rows) and len({r[0] for r in rows}) == 3
    assert all(r[3] == 0 for r in rows)  # online
    assert rows[0][5].startswith("web-")

    dismiss_result(page)
    page.click("#sign-out")
    expect(page.locator("#view-signin")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('wuchuang.scan.token')") is None
    timings = page.evaluate("() => window.__scan.timings")
    record_timings("a-wedge", timings)
    assert [t["result"] for t in timings] == ["ok", "already_checked_in", "invalid"]
    context.close()


# --- (b) camera --------------------------------------------------------------------------------


def test_camera_reads_a_real_ticket_qr_and_checks_in(server, launch, artifacts, console_log, tmp_path):
    from playwright.sync_api import expect

    door = seed_door(server.settings, [("张伟", "武汉大学")])
    video = qr_y4m(door.people[0].code, tmp_path / "ticket.y4m")
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}")
    # jsQR is the decoder that must work everywhere: hide BarcodeDetector (the optional fast path).
    context, page = open_scan_page(
        browser, server, console_log, permissions=["camera"], init_script="delete window.BarcodeDetector;"
    )
    sign_in_and_pick_event(page, door)

    page.click("#camera-toggle")
    expect(page.locator("#camera-box")).to_be_visible()
    expect(page.locator("#camera-toggle")).to_have_text("关闭相机")
    shown = result_number(page, 1, timeout=20_000)
    assert shown["result"] == "ok" and shown["source"] == "camera" and shown["offline"] is False
    assert page.evaluate("() => window.__scan.decoder") == "jsQR"
    expect(page.locator("#result")).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#result-name")).to_have_text("张伟")
    expect(page.locator("#result-reason")).to_have_text("欢迎，张伟！")
    artifacts(page, "b1-camera-ok")

    # The ticket stays in front of the camera: it is not scanned again and again.
    page.wait_for_timeout(2500)
    assert page.evaluate("() => window.__scan.count") == 1
    dismiss_result(page)
    expect(page.locator("#count-in")).to_have_text("1")
    artifacts(page, "b2-camera-view")

    assert attendance_of(server, door) == [(door.people[0].registration_id,)]
    rows = scans_of(server, door)
    assert [(r[1], r[3]) for r in rows] == [("ok", 0)]
    record_timings("b-camera", page.evaluate("() => window.__scan.timings"))
    page.click("#camera-toggle")
    expect(page.locator("#camera-box")).to_be_hidden()
    context.close()


# --- (c) offline -------------------------------------------------------------------------------


QUEUED_SCANS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('wuchuang-scan', 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction('queue').objectStore('queue').getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  };
})"""


def test_offline_scans_are_verified_locally_queued_and_replayed_once(server, launch, artifacts, console_log):
    from playwright.sync_api import expect

    people = [("赵敏", "武汉理工大学"), ("孙浩", "东湖高新区科创局"), ("周婷", "长江存储")]
    door = seed_door(server.settings, people)
    browser = launch()
    context, page = open_scan_page(browser, server, console_log)
    sign_in_and_pick_event(page, door)
    # The page caches what offline judging needs: the public key and the event's check-in list.
    page.wait_for_function(
        "id => localStorage.getItem('wuchuang.scan.pubkey') && localStorage.getItem('wuchuang.scan.list.' + id)",
        arg=door.event_id,
    )
    expect(page.locator("#count-confirmed")).to_have_text("3")

    context.set_offline(True)
    expect(page.locator("#net")).to_have_text("离线")
    for n, person in enumerate(door.people, start=1):
        wedge(page, person.code)
        shown = result_number(page, n)
        assert shown["result"] == "ok" and shown["offline"] is True, shown
        expect(page.locator("#result")).to_have_class(re.compile(r"\bok\b"))
        expect(page.locator("#result-name")).to_have_text(person.name)
        expect(page.locator("#result-offline")).to_have_text("离线核验 · 待上传")
        artifacts(page, f"c{n}-offline-ok")
    expect(page.locator("#queue-count")).to_have_text("3")
    expect(page.locator("#count-in")).to_have_text("3")  # the server's 0 plus three queued admissions

    # A forged ticket is refused offline too (the signature is checked locally).
    forged = door.people[0].code[:-6] + ("AAAAAA" if not door.people[0].code.endswith("AAAAAA") else "BBBBBB")
    wedge(page, forged)
    refused = result_number(page, 4)
    assert refused["result"] == "invalid" and refused["offline"] is True
    expect(page.locator("#result")).to_have_class(re.compile(r"\bbad\b"))
    artifacts(page, "c4-offline-forged")
    # ...and a second scan of an admitted ticket is caught from the local record.
    wedge(page, door.people[1].code)
    repeat = result_number(page, 5)
    assert repeat["result"] == "already_checked_in" and repeat["offline"] is True
    expect(page.locator("#result-reason")).to_have_text(re.compile(r"^已于 \d\d:\d\d 签到。$"))
    repeat_reason = page.locator("#result-reason").inner_text()
    artifacts(page, "c5-offline-already")

    queued = page.evaluate(QUEUED_SCANS)
    assert [q["localResult"] for q in queued] == ["ok", "ok", "ok", "invalid", "already_checked_in"]
    assert all(q["body"]["offline"] is True and UUID.match(q["body"]["scan_id"]) for q in queued)
    # Times are worded in the event's zone (Wuhan), as the server words them, whatever the device's zone.
    first_sun = datetime.fromisoformat(queued[1]["body"]["scanned_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert repeat_reason == f"已于 {first_sun:%H:%M} 签到。"
    expect(page.locator("#queue-count")).to_have_text("5")
    assert attendance_of(server, door) == [] and scans_of(server, door) == []  # the server saw nothing
    dismiss_result(page)
    artifacts(page, "c6-offline-queue")

    context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_text("0", timeout=20_000)
    expect(page.locator("#net")).to_have_text("在线")
    expect(page.locator("#count-in")).to_have_text("3")
    artifacts(page, "c7-back-online-synced")

    # Three check-ins, once each, stamped with the scan time the page took offline.
    assert sorted(r[0] for r in attendance_of(server, door)) == sorted(p.registration_id for p in door.people)
    assert stats(server, door)["checked_in"] == 3
    rows = scans_of(server, door)
    assert [r[0] for r in rows] == [q["body"]["scan_id"] for q in queued]  # replayed in order
    assert [r[1] for r in rows] == ["ok", "ok", "ok", "invalid", "already_checked_in"]
    assert all(r[3] == 1 for r in rows)  # offline=true
    for row, item in zip(rows, queued, strict=True):
        recorded = datetime.fromisoformat(row[4])
        assert abs((recorded - datetime.fromisoformat(item["body"]["scanned_at"])).total_seconds()) < 0.01
    # Replaying a scan again changes nothing.
    response = httpx.post(
        f"{server.url}/api/v1/checkins", json=queued[0]["body"], headers={"Authorization": f"Bearer {door.token}"}
    )
    assert response.json()["replayed"] is True and response.json()["result"] == "ok"
    assert len(scans_of(server, door)) == 5 and len(attendance_of(server, door)) == 3
    record_timings("c-offline", page.evaluate("() => window.__scan.timings"))
    context.close()


def test_a_course_pass_opens_a_session_door_offline_and_earns_its_hours_once(server, launch, artifacts, console_log):
    from playwright.sync_api import expect

    door = seed_course_door(server.settings, "陈静")
    browser = launch()
    context, page = open_scan_page(browser, server, console_log)
    sign_in_and_pick_event(page, door)
    page.wait_for_function("id => localStorage.getItem('wuchuang.scan.list.' + id)", arg=door.event_id)
    expect(page.locator("#count-confirmed")).to_have_text("1")  # the enrolled broker is expected here

    context.set_offline(True)
    expect(page.locator("#net")).to_have_text("离线")
    wedge(page, door.people[0].code)
    shown = result_number(page, 1)
    assert shown["result"] == "ok" and shown["offline"] is True, shown
    expect(page.locator("#result-name")).to_have_text("陈静")
    artifacts(page, "e1-course-pass-offline-ok")
    dismiss_result(page)
    context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_text("0", timeout=20_000)
    wedge(page, door.people[0].code)  # scanned again, online now
    again = result_number(page, 2)
    assert again["result"] == "already_checked_in", again
    expect(page.locator("#result-reason")).not_to_contain_text("学时")
    artifacts(page, "e2-course-pass-again")

    assert [r[0] for r in attendance_of(server, door)] == [door.people[0].registration_id]
    credits = query(server.settings, "SELECT source, hours_tenths, event_id FROM credit_entry ORDER BY id")
    assert credits == [("attendance", 30, door.event_id)]
    context.close()


# --- English, and a camera that is refused ------------------------------------------------------


def test_english_and_a_refused_camera(server, launch, artifacts, console_log):
    from playwright.sync_api import expect

    door = seed_door(server.settings, [("Li Na", "Hubei Optics Valley Lab")], checker="east gate")
    browser = launch("--use-fake-device-for-media-stream")  # a camera exists, but nobody allows it
    context, page = open_scan_page(browser, server, console_log, locale="en-US")
    expect(page.locator("#view-signin h1")).to_have_text("Door staff sign-in")
    sign_in_and_pick_event(page, door)
    expect(page.locator("#camera-toggle")).to_have_text("Scan with the camera")

    page.click("#camera-toggle")
    message = page.locator("#camera-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Camera access was refused")
    expect(page.locator("#camera-box")).to_be_hidden()
    artifacts(page, "d1-camera-refused-en")

    wedge(page, door.people[0].code)
    shown = result_number(page, 1)
    assert shown["result"] == "ok"
    expect(page.locator("#result-title")).to_have_text("Checked in")
    expect(page.locator("#result-reason")).to_have_text("Welcome, Li Na.")  # the server's, in English
    artifacts(page, "d2-ok-en")
    dismiss_result(page)

    page.click("#lang-toggle")
    expect(page.locator("#camera-toggle")).to_have_text("打开相机扫码")
    expect(page.locator("#lang-toggle")).to_have_text("EN")
    record_timings("d-english", page.evaluate("() => window.__scan.timings"))
    context.close()


def test_no_camera_at_all(server, launch, artifacts, console_log):
    from playwright.sync_api import expect

    door = seed_door(server.settings, [("吴芳", None)])
    browser = launch()  # no fake device: this machine has no camera
    context, page = open_scan_page(browser, server, console_log, permissions=["camera"])
    sign_in_and_pick_event(page, door)
    page.click("#camera-toggle")
    message = page.locator("#camera-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("没有找到可用的相机")
    artifacts(page, "e1-no-camera")
    context.close()


# --- scan ids: one per scan, never shared between phones ----------------------------------------

NO_RANDOM_UUID = "delete Crypto.prototype.randomUUID;"  # as on plain http (not a secure context), older WebViews


def test_two_phones_on_one_token_make_ids_that_never_collide(server, launch, console_log):
    """One door token on two phones, one of them without crypto.randomUUID: every scan id is a
    random UUID of its own, so the server records both people (a shared id would be refused)."""
    door = seed_door(server.settings, [("郑琳", None), ("冯刚", None)])
    browser = launch()
    ids: list[str] = []
    for person, init_script in zip(door.people, (None, NO_RANDOM_UUID), strict=True):
        context, page = open_scan_page(browser, server, console_log, init_script=init_script)
        assert page.evaluate("() => typeof crypto.randomUUID") == ("undefined" if init_script else "function")
        sign_in_and_pick_event(page, door)
        for n in (1, 2):
            wedge(page, person.code)
            assert result_number(page, n)["result"] == ("ok" if n == 1 else "already_checked_in")
            dismiss_result(page)
        context.close()
    rows = scans_of(server, door)
    ids = [r[0] for r in rows]
    assert len(ids) == 4 and all(UUID.match(i) for i in ids) and len(set(ids)) == 4, ids
    assert sorted(r[0] for r in attendance_of(server, door)) == sorted(p.registration_id for p in door.people)


def test_the_mini_app_makes_a_random_scan_id_even_without_random_uuid(server, launch, console_log):
    """The bot's Mini App page, with a stand-in for Telegram's script that "scans" twice."""
    from playwright.sync_api import expect

    fake_telegram = """
      window.Telegram = { WebApp: {
        initData: 'query_id=x', initDataUnsafe: { user: { language_code: 'zh' } }, ready() {},
        HapticFeedback: { notificationOccurred() {} },
        showScanQrPopup(options, callback) { callback('WC1.first'); callback('WC1.second'); },
      } };
    """
    posted: list[dict[str, Any]] = []

    def checkin(route: Any) -> None:
        posted.append(route.request.post_data_json)
        route.fulfill(json={"result": "invalid", "reason": "测试", "registration": None})

    browser = launch()
    for done, init_script in enumerate((None, NO_RANDOM_UUID), start=1):
        context = browser.new_context(base_url=server.url, locale="zh-CN", **PHONE)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.on("pageerror", lambda error: console_log.append(f"pageerror: {error}"))
        page.route("**/telegram-web-app.js", lambda r: r.fulfill(body=fake_telegram, content_type="text/javascript"))
        page.route("**/api/v1/webapp/checkins", checkin)
        page.goto("/scan/telegram?event=1")
        page.click("#scan")
        expect(page.locator("#result")).to_have_text("测试")
        for _ in range(100):  # the routes are answered while Playwright waits
            if len(posted) == 2 * done:
                break
            page.wait_for_timeout(50)
        context.close()
    assert [p["code"] for p in posted] == ["WC1.first", "WC1.second"] * 2
    ids = [p["scan_id"] for p in posted]
    assert all(UUID.match(i) for i in ids) and len(set(ids)) == 4, ids
