"""The competitions' faces over HTTP: entry files (type sniffed from the bytes), the judge's page, the
public entry form, the hall's scoreboard, the results page; the entry on stage."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from api.app import create_app
from events import clock
from events.models import (
    AdvanceHow,
    Entry,
    EntryAttachment,
    EntrySource,
    Round,
    RoundAdvance,
    RoundStatus,
    ScoreVersion,
)
from events.services import organizations, tokens
from events.services.competitions import assignment, attachments, config, entries, judges, public, scoring, storage
from events.settings import Settings
from tests.factories import bearer

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 200


def ooxml(main: str) -> bytes:
    """A minimal Office Open XML package whose main part has content type ``main``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/main.xml" ContentType="{main}"/></Types>',
        )
        z.writestr("main.xml", "<x/>")
    return out.getvalue()


PPTX = ooxml("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")
DOCX = ooxml("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
XLSX = ooxml("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
PPT = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 100 + "PowerPoint Document".encode("utf-16-le") + b"\x00" * 50

COMPETITION = {
    "title": "武创源·2026",
    "tracks": [{"code": "ai", "name": "人工智能"}, {"code": "bio", "name": "生物医药"}],
    "rounds": [
        {"code": "final", "name": "决赛", "judges_per_entry": 2, "advance": {"top": 1}},
    ],
    "criteria": [
        {"key": "tech", "name": "技术先进性", "weight": 0.6, "max": 10},
        {"key": "market", "name": "市场价值", "weight": 0.4, "max": 10},
    ],
    "aggregation": "mean",
}


@dataclass
class Contest:
    id: int
    org: int
    organizer: str  # bearer token
    judge_a: str
    judge_b: str
    judge_c: str  # from 光谷生物's own organization: conflicted with the bio entry
    judge_ids: tuple[int, int, int]
    ai: int  # entry ids
    bio: int


async def make_contest(
    *, judges_per_entry: int = 2, telegram_ids: tuple[int | None, ...] = (None, None, None)
) -> Contest:
    org = (await organizations.find_or_create_organization("武汉市科技局")).id
    organizer = (await tokens.create_token(role="organizer", name="科技局", organization_id=org)).plaintext
    spec = config.CompetitionInput(**COMPETITION)
    spec.rounds[0].judges_per_entry = judges_per_entry
    made = await config.create_competition(spec, actor="test", organization_id=org)
    cid = made.competition.id
    scope = organizations.Scope(org)
    ids = []
    for title, track, organization in (("光量子芯片", "ai", "量子科技有限公司"), ("靶向新药", "bio", "光谷生物")):
        entry = await entries.submit_entry(
            cid,
            entries.EntryInput(
                title=title, track=track, leader_name="负责人", organization=organization, summary="摘要"
            ),
            actor="test",
            scope=scope,
        )
        await entries.review_entry(cid, entry.id, accept=True, reason=None, scope=scope, actor="test")
        ids.append(entry.id)
    issued = []
    # 丙 is conflicted with both entries (same organization as one, a declared tie to the other), so
    # 甲 and 乙 judge everything.
    for (name, organization, ties), telegram_id in zip(
        (
            ("评委甲", "华中科技大学", []),
            ("评委乙", "武汉大学", []),
            ("评委丙", "光谷生物有限公司", ["量子科技有限公司"]),
        ),
        telegram_ids,
        strict=True,
    ):
        data = judges.JudgeInput(name=name, organization=organization, conflicts=ties, telegram_id=telegram_id)
        issued.append(await judges.add_judge(cid, data, scope=scope, actor="test"))
    await assignment.assign_round(cid, "final", scope=scope, actor="test")
    return Contest(
        cid, org, organizer, issued[0].token, issued[1].token, issued[2].token,
        (issued[0].judge.id, issued[1].judge.id, issued[2].judge.id), ids[0], ids[1],
    )  # fmt: skip


@pytest.fixture
async def contest(db: Settings) -> Contest:
    return await make_contest()


def files(name: str, data: bytes) -> dict:
    return {"file": (name, data, "application/octet-stream")}


def upload_url(c: Contest, entry_id: int) -> str:
    return f"/api/v1/competitions/{c.id}/entries/{entry_id}/attachments"


# --- storage checks ----------------------------------------------------------------------------


def test_types_come_from_the_bytes_not_the_name():
    assert storage.sniff(PDF) is storage.PDF
    assert storage.sniff(PPTX) is storage.PPTX and storage.sniff(DOCX) is storage.DOCX
    assert storage.sniff(PPT) is storage.PPT
    assert isinstance(storage.sniff(XLSX), str) and isinstance(storage.sniff(EXE), str)
    assert isinstance(storage.sniff(b"PK\x03\x04 broken zip"), str)
    checked = storage.check_upload("../../etc/计划书.PDF", PDF, max_bytes=10_000)
    assert checked.filename == "计划书.pdf" and checked.kind is storage.PDF and len(checked.sha256) == 64
    assert storage.check_upload(None, PPTX, max_bytes=10_000).filename == "file.pptx"
    assert storage.safe_filename('a<b>:"c|?*\x00.pdf', "pdf") == "a_b___c____.pdf"
    with pytest.raises(storage.AttachmentTypeMismatch):
        storage.check_upload("plan.pdf", EXE, max_bytes=10_000)
    with pytest.raises(storage.AttachmentTypeMismatch):
        storage.check_upload("slides.pdf", PPTX, max_bytes=10_000)  # a real PPTX, named .pdf
    with pytest.raises(storage.AttachmentTypeNotAllowed):
        storage.check_upload("sheet.xlsx", XLSX, max_bytes=10_000)
    with pytest.raises(storage.AttachmentTooLarge):
        storage.check_upload("plan.pdf", PDF, max_bytes=10)


async def test_file_storage_keys_are_ours(tmp_path):
    store = storage.FileStorage(tmp_path)
    key = storage.new_key(1, 2, "pdf")
    await store.put(key, PDF)
    assert await store.get(key) == PDF and store.url(key) is None
    await store.delete(key)
    with pytest.raises(storage.AttachmentNotFound):
        await store.get(key)
    for bad in ("../x", "/etc/passwd", "a/../../b", "A B"):
        with pytest.raises(ValueError, match="not a storage key"):
            await store.put(bad, b"x")


# --- the files API -----------------------------------------------------------------------------


async def test_organizer_and_entrant_add_files_and_lies_are_refused(client, contest, db):
    c = contest
    organizer = bearer(c.organizer)
    r = await client.post(upload_url(c, c.ai), files=files("商业计划书.pdf", PDF), headers=organizer)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["content_type"] == "application/pdf" and body["kind"] == "business_plan"
    assert body["filename"] == "商业计划书.pdf" and body["size"] == len(PDF)
    stored = await EntryAttachment.get(id=body["id"])
    assert (db.data_dir / "attachments" / stored.storage_key).read_bytes() == PDF

    key = attachments.entry_key(c.ai)
    r = await client.post(upload_url(c, c.ai), files=files("路演.pptx", PPTX), headers=bearer(key))
    assert r.status_code == 201 and r.json()["kind"] == "slides"
    # The key of one entry opens no other; no key, or a wrong one, is no caller.
    assert (await client.post(upload_url(c, c.bio), files=files("a.pdf", PDF), headers=bearer(key))).status_code == 404
    assert (await client.post(upload_url(c, c.ai), files=files("a.pdf", PDF))).status_code == 401
    wrong = bearer(key[:-4] + "AAAA")
    assert (await client.post(upload_url(c, c.ai), files=files("a.pdf", PDF), headers=wrong)).status_code == 401

    lie = await client.post(
        upload_url(c, c.ai), files=files("plan.pdf", EXE), headers=organizer | {"Accept-Language": "en"}
    )
    assert lie.status_code == 422 and lie.json()["error"]["code"] == "attachment_type_mismatch"
    assert "plan.pdf" in lie.json()["error"]["message"] and "Windows program" in lie.json()["error"]["message"]
    zh = await client.post(upload_url(c, c.ai), files=files("plan.pdf", EXE), headers=organizer)
    assert "与其扩展名不符" in zh.json()["error"]["message"] and "程序" in zh.json()["error"]["message"]
    other = await client.post(upload_url(c, c.ai), files=files("sheet.xlsx", XLSX), headers=organizer)
    assert other.status_code == 422 and other.json()["error"]["code"] == "attachment_type_not_allowed"
    empty = await client.post(upload_url(c, c.ai), files=files("plan.pdf", b""), headers=organizer)
    assert empty.status_code == 422
    assert await EntryAttachment.filter(entry_id=c.ai).count() == 2  # nothing refused was kept


async def test_a_file_over_the_limit_is_413_even_past_the_json_body_limit(db, contest):
    app = create_app(db.model_copy(update={"attachment_max_bytes": 4096, "max_body_bytes": 2048}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        three_kb = PDF + b"%" * 3000
        ok = await http.post(
            upload_url(contest, contest.ai), files=files("p.pdf", three_kb), headers=bearer(contest.organizer)
        )
        assert ok.status_code == 201, ok.text  # over max_body_bytes, under the attachment limit
        big = PDF + b"%" * 5000
        r = await http.post(
            upload_url(contest, contest.ai), files=files("p.pdf", big), headers=bearer(contest.organizer)
        )
        assert r.status_code == 413 and r.json()["error"]["code"] == "attachment_too_large"
        huge = await http.post(
            upload_url(contest, contest.ai),
            files=files("p.pdf", PDF + b"%" * 2_000_000),
            headers=bearer(contest.organizer),
        )
        assert huge.status_code == 413  # refused by the body limit before it is read
        json_route = await http.post(
            "/api/v1/competitions", json={"title": "x" * 3000}, headers=bearer(contest.organizer)
        )
        assert json_route.status_code == 413  # other routes keep the small limit


async def test_assigned_judges_read_files_conflicted_ones_never(client, contest):
    c = contest
    added = (await client.post(upload_url(c, c.bio), files=files("新药.pdf", PDF), headers=bearer(c.organizer))).json()
    path = f"{upload_url(c, c.bio)}/{added['id']}"
    for token in (c.judge_a, c.judge_b):  # both are assigned to every entry (2 per entry, 2 free judges)
        r = await client.get(path, headers=bearer(token))
        assert r.status_code == 200 and r.content == PDF
        assert r.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''%E6%96%B0%E8%8D%AF.pdf" in r.headers["content-disposition"]
        listing = await client.get(upload_url(c, c.bio), headers=bearer(token))
        assert [a["id"] for a in listing.json()["items"]] == [added["id"]]
    conflicted = await client.get(path, headers=bearer(c.judge_c))  # same organization as the entry
    assert conflicted.status_code == 403 and conflicted.json()["error"]["code"] == "conflict_of_interest"
    other_org = (
        await tokens.create_token(
            role="organizer", name="b", organization_id=(await organizations.find_or_create_organization("别家")).id
        )
    ).plaintext
    assert (await client.get(path, headers=bearer(other_org))).status_code == 404
    assert (await client.get(path, headers=bearer(c.organizer))).status_code == 200


# --- on stage, the scoreboard ------------------------------------------------------------------


async def _score(c: Contest, token: str, entry_id: int, tech: float, market: float, *, submit: bool = True) -> None:
    judge = await judges.judge_of_token(await tokens.authenticate(token), c.id)
    await scoring.submit_score(
        c.id, "final", entry_id, scoring.ScoreInput(scores={"tech": tech, "market": market}, submit=submit),
        judge=judge, actor="test",
    )  # fmt: skip


async def test_scoreboard_shows_a_score_once_every_judge_submitted(client, contest):
    c = contest
    board = f"/api/v1/competitions/{c.id}/rounds/final/scoreboard"
    page = f"/competitions/{c.id}/rounds/final/scoreboard"
    assert (await client.get(board)).status_code == 404  # private by default
    assert (await client.get(page)).status_code == 404
    made = await client.post(
        f"/api/v1/competitions/{c.id}/rounds/final/scoreboard", json={"public": False}, headers=bearer(c.organizer)
    )
    link = made.json()["url"]
    assert made.json()["public_url"] is None
    key = link.split("key=")[1]
    assert (await client.get(board, params={"key": key})).status_code == 200
    assert (await client.get(board, params={"key": "x" * 48})).status_code == 404

    await client.post(
        f"/api/v1/competitions/{c.id}/rounds/final/scoreboard", json={"public": True}, headers=bearer(c.organizer)
    )
    stage = await client.post(
        f"/api/v1/competitions/{c.id}/rounds/final/current-entry", json={"entry_id": c.ai}, headers=bearer(c.organizer)
    )
    assert stage.status_code == 200 and stage.json()["title"] == "光量子芯片"
    await _score(c, c.judge_a, c.ai, 8, 9)
    await _score(c, c.judge_b, c.bio, 5, 5)
    await _score(c, c.judge_b, c.ai, 7, 7, submit=False)  # a draft is not a score yet
    from api import competition_pages

    competition_pages._BOARDS.clear()  # the two-second cache
    first = (await client.get(board)).json()
    assert [(i["title"], i["score"], i["judges_done"], i["judges_total"]) for i in first["items"]] == [
        ("光量子芯片", None, 1, 2),
        ("靶向新药", None, 1, 2),
    ]
    assert first["on_stage"]["entry_id"] == c.ai
    await _score(c, c.judge_b, c.ai, 7, 7)
    competition_pages._BOARDS.clear()  # the two-second cache
    second = await client.get(board)
    items = second.json()["items"]
    assert (items[0]["title"], items[0]["score"], items[0]["rank"]) == ("光量子芯片", 7.7, 1)  # mean of 8.4 and 7.0
    assert items[1]["score"] is None
    again = await client.get(board, headers={"If-None-Match": second.headers["etag"]})
    assert again.status_code == 304
    html = await client.get(page)
    assert html.status_code == 200 and "光量子芯片" in html.text and "7.70" in html.text
    assert '<meta http-equiv="refresh"' in html.text and "scoreboard.js" in html.text
    assert "on-stage" in html.text


async def test_the_entry_on_stage_must_be_in_the_round(client, contest):
    c = contest
    url = f"/api/v1/competitions/{c.id}/rounds/final/current-entry"
    stranger = await config.create_competition(config.CompetitionInput(**COMPETITION), actor="t", organization_id=c.org)
    other = await entries.submit_entry(
        stranger.competition.id, entries.EntryInput(title="别的", track="ai", leader_name="某"),
        actor="t", scope=organizations.Scope(c.org),
    )  # fmt: skip
    r = await client.post(url, json={"entry_id": other.id}, headers=bearer(c.organizer))
    assert r.status_code == 404 and r.json()["error"]["code"] == "entry_not_found"
    cleared = await client.post(url, json={"entry_id": None}, headers=bearer(c.organizer))
    assert cleared.json()["entry_id"] is None
    seen = await client.get(url, headers=bearer(c.judge_a))
    assert seen.status_code == 200 and seen.json()["entry_id"] is None


# --- the judge's page --------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(client: httpx.AsyncClient, token: str) -> str:
    r = await client.get("/judge", params={"token": token})
    assert r.status_code == 303 and r.headers["location"] == "/judge"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/judge" in cookie
    page = await client.get("/judge")
    assert page.status_code == 200
    return CSRF.search(page.text).group(1)


async def test_a_judge_signs_in_by_link_saves_submits_and_sees_only_their_own(client, contest):
    c = contest
    await _score(c, c.judge_b, c.ai, 3, 3)  # the other judge's score, with a comment below
    await scoring.submit_score(
        c.id, "final", c.bio, scoring.ScoreInput(scores={"tech": 1, "market": 2}, comment="乙的私评"),
        judge=await judges.judge_of_token(await tokens.authenticate(c.judge_b), c.id), actor="test",
    )  # fmt: skip
    csrf = await sign_in(client, c.judge_a)
    page = (await client.get("/judge")).text
    assert "评委甲" in page and "光量子芯片" in page and "靶向新药" in page
    assert page.count("未开始") == 2 and "乙的私评" not in page
    assert 'max="10"' in page and 'step="0.5"' in page

    form = {"csrf": csrf, "round": "final", "entry_id": str(c.ai), "score.tech": "8", "score.market": "6.5"}
    saved = await client.post("/judge/score", data=form | {"action": "save", "comment": "很好"})
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"/judge?done={c.ai}%3Asaved")
    after = (await client.get(saved.headers["location"])).text
    assert "草稿已保存" in after and "已保存，未提交" in after
    submitted = await client.post("/judge/score", data=form | {"action": "submit"})
    assert submitted.status_code == 303
    mine = await ScoreVersion.filter(assignment__entry_id=c.ai, assignment__judge_id=c.judge_ids[0]).order_by("version")
    assert [(v.version, v.submitted, v.via) for v in mine] == [(1, False, "web"), (2, True, "web")]
    assert "已提交" in (await client.get("/judge")).text

    too_high = await client.post("/judge/score", data=form | {"score.tech": "11", "action": "submit"})
    assert too_high.status_code == 422
    assert "技术先进性" in too_high.text and 'aria-invalid="true"' in too_high.text and 'value="11"' in too_high.text
    missing = await client.post(
        "/judge/score", data=form | {"score.market": "", "action": "save"}, headers={"Accept-Language": "en"}
    )
    assert missing.status_code == 422 and "Give a score for 市场价值" in missing.text
    word = await client.post("/judge/score", data=form | {"score.market": "abc", "action": "save"})
    assert word.status_code == 422
    forged = await client.post("/judge/score", data=form | {"csrf": "x" * 32, "action": "save"})
    assert forged.status_code == 403
    assert await ScoreVersion.filter(assignment__entry_id=c.ai, assignment__judge_id=c.judge_ids[0]).count() == 2


async def test_a_judge_steps_aside_and_a_closed_round_is_read_only(client, contest):
    c = contest
    csrf = await sign_in(client, c.judge_a)
    refused = await client.post(
        "/judge/recuse", data={"csrf": csrf, "round": "final", "entry_id": str(c.bio), "reason": ""}
    )
    assert refused.status_code == 422
    done = await client.post(
        "/judge/recuse", data={"csrf": csrf, "round": "final", "entry_id": str(c.bio), "reason": "曾为该项目顾问"}
    )
    assert done.status_code == 303
    page = (await client.get(done.headers["location"])).text
    assert "已回避" in page
    files = await client.get(f"{upload_url(c, c.bio)}", headers=bearer(c.judge_a))
    assert files.status_code == 403  # recused: the entry's files are closed to them too

    await _score(c, c.judge_a, c.ai, 9, 9)
    await Round.filter(competition_id=c.id).update(status=RoundStatus.CLOSED, closed_at=clock.now())
    closed = (await client.get("/judge")).text
    assert "已截止" in closed and "disabled" in closed and 'value="9"' in closed and 'name="action"' not in closed
    late = await client.post(
        "/judge/score",
        data={
            "csrf": csrf,
            "round": "final",
            "entry_id": str(c.ai),
            "score.tech": "1",
            "score.market": "1",
            "action": "submit",
        },
    )
    assert late.status_code == 409 and "截止" in late.text


async def test_a_bad_or_replaced_judge_link_signs_nobody_in(client, contest):
    c = contest
    r = await client.get("/judge", params={"token": "wch_nonsense"})
    assert r.status_code == 401 and "set-cookie" not in r.headers
    organizer = await client.get("/judge", params={"token": c.organizer})
    assert organizer.status_code == 401  # only judge tokens open the judge's page
    await sign_in(client, c.judge_a)
    await judges.rotate_judge_token(c.id, c.judge_ids[0], scope=organizations.Scope(c.org), actor="test")
    assert (await client.get("/judge")).status_code == 401  # the old link's cookie no longer works


# --- the entry form ----------------------------------------------------------------------------


async def entry_form_csrf(client: httpx.AsyncClient, cid: int, lang: str = "zh-CN") -> str:
    page = await client.get(f"/competitions/{cid}/enter", headers={"Accept-Language": lang})
    assert page.status_code == 200
    return CSRF.search(page.text).group(1)


async def test_the_web_form_enters_with_a_file_and_answers_the_entry_number(client, contest):
    c = contest
    en = await client.get(f"/competitions/{c.id}/enter", headers={"Accept-Language": "en"})
    assert "Enter the competition" in en.text and "人工智能" in en.text
    csrf = await entry_form_csrf(client, c.id)
    form = {
        "csrf": csrf,
        "track": "bio",
        "title": "可降解支架",
        "summary": "心血管",
        "leader_name": "赵六",
        "organization": "某医疗器械公司",
        "team": "赵六, 负责人\n钱七，工程师",
        "contact_phone": "13912345678",
        "declared_ties": "光谷生物\n",
    }
    r = await client.post(f"/competitions/{c.id}/enter", data=form, files=files("计划书.pdf", PDF))
    assert r.status_code == 201, r.text
    number = int(re.search(r'id="entry-number">(\d+)<', r.text).group(1))
    entry = await Entry.get(id=number)
    assert entry.source == EntrySource.WEB and entry.team == [
        {"name": "赵六", "role": "负责人"},
        {"name": "钱七", "role": "工程师"},
    ]
    assert entry.declared_ties == ["光谷生物"] and entry.contact_phone == "+8613912345678"
    assert [a.filename for a in await EntryAttachment.filter(entry_id=number)] == ["计划书.pdf"]
    # A later file through the answer page's own form (its key is in the page).
    key = re.search(r'name="key" value="([^"]+)"', r.text).group(1)
    more = await client.post(
        f"/competitions/{c.id}/enter/{number}/files",
        data={"csrf": CSRF.search(r.text).group(1), "key": key},
        files=files("路演.pptx", PPTX),
    )
    assert more.status_code == 200 and "路演.pptx" in more.text
    assert await EntryAttachment.filter(entry_id=number).count() == 2


async def test_the_web_form_says_what_is_wrong_and_keeps_nothing(client, contest):
    c = contest
    csrf = await entry_form_csrf(client, c.id)
    before = await Entry.all().count()
    empty = await client.post(f"/competitions/{c.id}/enter", data={"csrf": csrf, "title": "半成品"})
    assert empty.status_code == 422
    assert "半成品" in empty.text and 'id="err-leader_name"' in empty.text and 'id="err-contact_phone"' in empty.text
    lie = await client.post(
        f"/competitions/{c.id}/enter",
        data={"csrf": csrf, "track": "ai", "title": "伪装", "leader_name": "某", "contact_email": "a@b.cn"},
        files=files("plan.pdf", EXE),
    )
    assert lie.status_code == 422 and 'id="err-file"' in lie.text
    unknown = await client.post(
        f"/competitions/{c.id}/enter",
        data={"csrf": csrf, "track": "nope", "title": "x", "leader_name": "某", "contact_email": "a@b.cn"},
    )
    assert unknown.status_code == 422 and 'id="err-track"' in unknown.text
    no_csrf = await client.post(
        f"/competitions/{c.id}/enter",
        data={"track": "ai", "title": "x", "leader_name": "某", "contact_email": "a@b.cn"},
    )
    assert no_csrf.status_code == 403
    assert await Entry.all().count() == before


async def test_a_closed_competition_shows_no_form_and_refuses_posts(client, contest):
    from events.models import Competition

    c = contest
    await Competition.filter(id=c.id).update(entries_close_at=clock.now() - timedelta(minutes=1))
    page = await client.get(f"/competitions/{c.id}/enter")
    assert 'id="closed"' in page.text and "<form" not in page.text.split("</header>")[1]
    csrf = CSRF.search((await client.get(f"/competitions/{c.id}/enter")).text)
    assert csrf is None
    assert (await client.get("/competitions/999999/enter")).status_code == 404


async def test_the_web_form_is_rate_limited_per_address(db, contest):
    app = create_app(db.model_copy(update={"public_rate_limit": "1/minute"}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        csrf = await entry_form_csrf(http, contest.id)
        data = {"csrf": csrf, "track": "ai", "title": "一", "leader_name": "某", "contact_email": "a@b.cn"}
        assert (await http.post(f"/competitions/{contest.id}/enter", data=data)).status_code == 201
        second = await http.post(f"/competitions/{contest.id}/enter", data=data | {"title": "二"})
        assert second.status_code == 429


# --- the results page --------------------------------------------------------------------------


async def test_results_show_published_rounds_with_the_local_notice_end(client, contest):
    c = contest
    nothing = await client.get(f"/competitions/{c.id}/results")
    assert nothing.status_code == 200 and 'id="no-results"' in nothing.text
    rnd = await Round.get(competition_id=c.id, code="final")
    ends = clock.now().replace(hour=15, minute=30) + timedelta(days=5)  # 23:30 in Wuhan: that day there
    await Round.filter(id=rnd.id).update(status=RoundStatus.NOTICE, notice_ends_at=ends, closed_at=clock.now())
    await RoundAdvance.create(
        round_id=rnd.id, entry_id=c.ai, how=AdvanceHow.RULE, rank=1, score=8.25, at=clock.now(), by="t"
    )
    await RoundAdvance.create(
        round_id=rnd.id, entry_id=c.bio, how=AdvanceHow.RULE, rank=2, score=6, at=clock.now(), by="t",
        revoked_at=clock.now(), revoked_reason="异议成立",
    )  # fmt: skip
    page = await client.get(f"/competitions/{c.id}/results")
    local = ends.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert f"{local.year}年{local.month}月{local.day}日" in page.text and "公示" in page.text
    assert "光量子芯片" in page.text and "8.25" in page.text and "靶向新药" not in page.text
    en = await client.get(f"/competitions/{c.id}/results?lang=en")
    assert "Public notice until" in en.text


async def _under_notice(c: Contest, days: int = 5) -> Round:
    rnd = await Round.get(competition_id=c.id, code="final")
    ends = clock.now() + timedelta(days=days)
    await Round.filter(id=rnd.id).update(status=RoundStatus.NOTICE, notice_ends_at=ends, closed_at=clock.now())
    await RoundAdvance.create(
        round_id=rnd.id, entry_id=c.ai, how=AdvanceHow.RULE, rank=1, score=8.25, at=clock.now(), by="t"
    )
    return rnd


async def test_objections_on_the_results_page_during_the_notice(client, contest, frozen_clock):
    """The page's form files through the closing service like the API's route; what is wrong is said beside
    its field in Chinese; a post without the page's CSRF value keeps nothing; after the notice, a refusal."""
    from events.models import Objection

    c = contest
    await _under_notice(c)
    page = await client.get(f"/competitions/{c.id}/results")
    assert 'id="objection-form"' in page.text and f'<option value="{c.ai}"' in page.text
    csrf = CSRF.search(page.text).group(1)
    url = f"/competitions/{c.id}/results/objections"
    good = {"entry_id": str(c.ai), "name": "王实名", "contact": "13800000009", "reason": "样品数据与论文不一致"}

    bad = await client.post(url, data=good | {"csrf": csrf, "contact": "不是电话", "entry_id": ""})
    assert bad.status_code == 422
    assert 'id="err-contact"' in bad.text and 'id="err-entry_id"' in bad.text and "请选择您提出异议的项目" in bad.text
    assert "王实名" in bad.text and "样品数据与论文不一致" in bad.text  # what was typed stays
    blank = await client.post(url, data=good | {"csrf": csrf, "reason": " "})
    assert blank.status_code == 422 and 'id="err-reason"' in blank.text
    stranger = await client.post(url, data=good | {"csrf": csrf, "entry_id": "999999"})
    assert stranger.status_code == 404 and 'id="err-entry_id"' in stranger.text
    forged = await client.post(url, data=good)
    assert forged.status_code == 403
    assert await Objection.all().count() == 0

    filed = await client.post(url, data=good | {"csrf": csrf, "evidence": "https://example.com/paper"})
    assert filed.status_code == 201, filed.text
    objection = await Objection.get()
    assert (objection.entry_id, objection.objector_name, objection.objector_contact, objection.evidence) == (
        c.ai,
        "王实名",
        "+8613800000009",
        "https://example.com/paper",
    )
    assert f"编号 {objection.id}" in re.search(r'id="objection-filed">([^<]+)<', filed.text).group(1)

    frozen_clock.set(clock.now() + timedelta(days=6))  # the notice is over
    after = await client.get(f"/competitions/{c.id}/results")
    assert 'id="objection-form"' not in after.text and "公示已于" in after.text
    late = await client.post(url, data=good | {"csrf": csrf})
    assert late.status_code == 409 and "不在公示期内" in late.text
    assert await Objection.all().count() == 1


async def test_the_objection_form_is_rate_limited_per_address(db, contest):
    await _under_notice(contest)
    app = create_app(db.model_copy(update={"public_rate_limit": "1/minute"}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        csrf = CSRF.search((await http.get(f"/competitions/{contest.id}/results")).text).group(1)
        data = {"csrf": csrf, "entry_id": str(contest.ai), "name": "王", "contact": "a@b.cn", "reason": "有误"}
        assert (await http.post(f"/competitions/{contest.id}/results/objections", data=data)).status_code == 201
        second = await http.post(f"/competitions/{contest.id}/results/objections", data=data)
        assert second.status_code == 429 and 'id="form-error"' in second.text


async def test_the_judge_page_puts_the_entry_on_stage_first_and_counts_what_is_in(client, contest):
    c = contest
    await sign_in(client, c.judge_a)
    page = (await client.get("/judge")).text
    assert "已提交 <strong>0</strong> / 2" in page and "正在路演" not in page
    await public.set_on_stage(c.id, "final", c.bio, scope=organizations.Scope(c.org), actor="t")
    page = (await client.get("/judge")).text
    cards = re.findall(r'id="entry-final-(\d+)"', page)
    assert cards == [str(c.bio), str(c.ai)] and page.count("正在路演") == 1
    assert 'class="card entry status-not_started on-stage"' in page
