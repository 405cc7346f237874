"""The console's competition pages (api/console/competitions.py): what each page shows, what a form
changes (through the same services as the API), and the refusals: another organization's (404), bad
input (4xx, never 500), a stale form (409, nothing done)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from events import clock
from events.models import (
    Aggregation,
    Assignment,
    AssignmentStatus,
    Entry,
    EntryStatus,
    Judge,
    Objection,
    ObjectionStatus,
    Round,
    RoundStatus,
)
from events.services.competitions import attachments, closing, entries, overview, ranking
from events.services.competitions.storage import storage_for
from events.services.organizations import Scope
from events.settings import Settings
from tests.competition_console_kit import Contest, assign_and_score, make_contest
from tests.console_kit import ConsoleWorld, as_, build_console_world, session_of

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
async def http(db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _world() -> tuple[ConsoleWorld, Contest]:
    w = await build_console_world()
    return w, await make_contest(w.a)


def _base(c: Contest) -> str:
    return f"/console/competitions/{c.cid}"


async def get(
    http: httpx.AsyncClient, w: ConsoleWorld, url: str, user: str = "organizer_a", **params: Any
) -> httpx.Response:
    return await as_(http, w, user, "GET", url, params=params or None)


async def post(
    http: httpx.AsyncClient, w: ConsoleWorld, url: str, data: dict[str, Any], user: str = "organizer_a"
) -> httpx.Response:
    return await as_(http, w, user, "POST", url, data=data)


async def test_the_list_and_a_competition_at_a_glance(http: httpx.AsyncClient) -> None:
    w, c = await _world()
    other = await make_contest(w.b, title="江岸杯")
    listed = await get(http, w, "/console/competitions")
    assert listed.status_code == 200
    assert "武创源·2026" in listed.text and "江岸杯" not in listed.text
    assert "初赛" in listed.text and "决赛" in listed.text
    theirs = await get(http, w, "/console/competitions", user="organizer_b")
    assert "江岸杯" in theirs.text and "武创源·2026" not in theirs.text
    assert (await get(http, w, f"/console/competitions/{other.cid}")).status_code == 404

    await assign_and_score(c, w.a)
    page = await get(http, w, _base(c))
    assert page.status_code == 200
    html = page.text
    # Entries by status: four eligible, one submitted; three judges; 初赛's assignments all scored.
    assert "资格审查通过 <b>4</b>" in html and "已提交 <b>1</b>" in html
    seen = await overview.overview(c.cid, scope=Scope(w.a))
    assert seen.entries_by_status == {"accepted": 4, "submitted": 1} and seen.judges == 3
    first = seen.rounds[0]
    assert (first.in_play, first.assignments, first.scored) == (4, 8, 8)
    assert f"{first.scored} / {first.assignments}" in html
    assert "人工智能" in html and "技术先进性" in html

    english = await get(http, w, _base(c), lang="en")
    assert "Entries by status" in english.text and "the best 2" in english.text


async def test_entries_search_filter_and_review(http: httpx.AsyncClient) -> None:
    w, c = await _world()
    url = f"{_base(c)}/entries"
    everything = await get(http, w, url)
    assert everything.status_code == 200 and all(t in everything.text for t in c.entries)
    found = await get(http, w, url, q="细胞")
    assert "江城细胞治疗" in found.text and "光谷量子芯片" not in found.text
    by_org = await get(http, w, url, q="珞珈材料")
    assert "珞珈新材料" in by_org.text and "东湖智能驾驶" not in by_org.text
    submitted = await get(http, w, url, status="submitted")
    assert "待审项目" in submitted.text and "江城细胞治疗" not in submitted.text
    # An unknown status is no filter; an unknown round is not found; a forged cursor is refused.
    assert (await get(http, w, url, status="nonsense")).status_code == 200
    assert (await get(http, w, url, round="nope")).status_code == 404
    assert (await get(http, w, url, round="../x")).status_code == 404
    assert (await get(http, w, url, cursor="forged")).status_code == 422

    waiting = c.entries["待审项目"]
    entry = await Entry.get(id=waiting)
    review = f"{url}/{waiting}/review"
    # Rejecting needs a reason: the form comes back with the error, nothing changed.
    refused = await post(http, w, review, {"decision": "reject", "seen": entry.updated_at.isoformat()})
    assert refused.status_code == 422 and "notice error" in refused.text
    assert (await Entry.get(id=waiting)).status == EntryStatus.SUBMITTED
    bad = await post(http, w, review, {"decision": "maybe", "seen": entry.updated_at.isoformat()})
    assert bad.status_code == 422
    # A form opened before someone else decided: refused as stale.
    await entries.review_entry(c.cid, waiting, accept=True, reason=None, scope=Scope(w.a), actor="someone")
    stale = await post(
        http, w, review, {"decision": "reject", "reason": "材料不全", "seen": entry.updated_at.isoformat()}
    )
    assert stale.status_code == 409 and 'id="stale"' in stale.text
    assert "资格审查通过" in stale.text.split("<h1>")[1].split("</h1>")[0]  # what it holds now
    assert (await Entry.get(id=waiting)).status == EntryStatus.ACCEPTED
    fresh = await Entry.get(id=waiting)
    done = await post(
        http,
        w,
        review,
        {"decision": "reject", "reason": "材料不全", "seen": fresh.updated_at.isoformat(), "back": "list"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/entries?done=reviewed")
    rejected = await Entry.get(id=waiting)
    assert rejected.status == EntryStatus.REJECTED and rejected.review_reason == "材料不全"
    # B cannot review A's entry.
    assert (await post(http, w, review, {"decision": "accept"}, user="organizer_b")).status_code == 404
    # Accept from the list: one button, the entry's "seen" in the form.
    listed = await get(http, w, url)
    assert listed.text.count('form="bulk"') == 5  # every entry may still be decided (none is scored)


async def test_entries_decided_in_bulk(http: httpx.AsyncClient) -> None:
    w, c = await _world()
    url = f"{_base(c)}/entries/review"
    first, second = c.entries["光谷量子芯片"], c.entries["江城细胞治疗"]
    nothing = await post(http, w, url, {"decision": "reject", "reason": "x"})
    assert nothing.status_code == 422 and 'id="error"' in nothing.text
    no_reason = await post(http, w, url, {"decision": "reject", "entry_id": [first, second]})
    assert no_reason.status_code == 422
    done = await post(
        http, w, url, {"decision": "reject", "reason": "不符合条件", "entry_id": [first, second], "q": "光"}
    )
    assert done.status_code == 303 and "count=2" in done.headers["location"] and "q=" in done.headers["location"]
    assert {e.status for e in await Entry.filter(id__in=[first, second])} == {EntryStatus.REJECTED}
    shown = await get(http, w, done.headers["location"])
    assert 'id="done"' in shown.text
    # All or none: one submitted entry cannot be "rejected" twice... an accepted one can; a withdrawn one cannot.
    await entries.withdraw_entry(c.cid, c.entries["东湖智能驾驶"], reason=None, actor="t", scope=Scope(w.a))
    mixed = await post(http, w, url, {"decision": "accept", "entry_id": [first, c.entries["东湖智能驾驶"]]})
    assert mixed.status_code == 409
    assert (await Entry.get(id=first)).status == EntryStatus.REJECTED  # nothing done
    # Over the limit: refused before anything is done (Starlette's form parser already stops at 1,000 fields).
    many = await post(http, w, url, {"decision": "accept", "entry_id": [first] * 10_001})
    assert many.status_code in (400, 422) and (await Entry.get(id=first)).status == EntryStatus.REJECTED
    assert (
        await post(http, w, url, {"decision": "accept", "entry_id": [first]}, user="organizer_b")
    ).status_code == 404


async def test_an_entry_page_files_scores_and_conflicts(http: httpx.AsyncClient, db: Settings) -> None:
    w, c = await _world()
    await assign_and_score(c, w.a)
    target = c.entries["光谷量子芯片"]
    store = storage_for(db.data_dir)
    added = await attachments.add_attachment(
        c.cid,
        target,
        filename="商业计划书.pdf",
        data=PDF,
        who=attachments.Uploader(actor="test", scope=Scope(w.a)),
        storage=store,
        max_bytes=1_000_000,
    )
    page = await get(http, w, f"{_base(c)}/entries/{target}")
    assert page.status_code == 200
    html = page.text
    assert "商业计划书.pdf" in html
    # 陈评委 declared a tie to the entrant's organization: logged, shown, never assigned.
    assert "陈评委" in html and ("评委申报的关联" in html or "a tie the judge declared" in html)
    assert not await Assignment.exists(entry_id=target, judge_id=c.judges["陈评委"].id)
    assert "技术先进性 90 · 市场价值 80" in html and "built-in" not in html
    assert "刘评委" in html and "周评委" in html and "86" in html  # both judges' weighted totals: 0.6·90 + 0.4·80
    download = await get(http, w, f"{_base(c)}/entries/{target}/attachments/{added.id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment;" in download.headers["content-disposition"]
    other = c.entries["江城细胞治疗"]
    assert (await get(http, w, f"{_base(c)}/entries/{other}/attachments/{added.id}")).status_code == 404
    assert (
        await get(http, w, f"{_base(c)}/entries/{target}/attachments/{added.id}", user="organizer_b")
    ).status_code == 404
    assert (await get(http, w, f"{_base(c)}/entries/99999")).status_code == 404
    assert (await get(http, w, f"{_base(c)}/entries/x1")).status_code == 404


async def test_judges_added_with_their_conflicts(http: httpx.AsyncClient) -> None:
    w, c = await _world()
    url = f"{_base(c)}/judges"
    page = await get(http, w, url)
    assert page.status_code == 200
    assert "陈评委" in page.text and "光谷量子芯片" in page.text  # the tie's conflict, per judge
    added = await post(
        http,
        w,
        url,
        {
            "name": "吴评委",
            "organization": "东湖智驾有限公司",
            "email": "wu@dhzj.cn",
            "expertise": "ai, 自动驾驶",
            "ties": "珞珈材料研究院",
        },
    )
    assert added.status_code == 201 and "/judge?token=" in added.text
    judge = await Judge.get(name="吴评委")
    assert judge.expertise == ["ai", "自动驾驶"] and judge.conflicts == ["珞珈材料研究院"]
    listed = await get(http, w, url)
    row = listed.text.split(f'id="judge-{judge.id}"')[1].split("</tr>")[0]
    # Same organization as 东湖智能驾驶's entrant; a declared tie to 珞珈新材料's.
    assert "东湖智能驾驶" in row and "珞珈新材料" in row
    assert "/judge?token=" not in listed.text  # the link is shown once
    old = judge.token_id
    again = await post(http, w, f"{url}/{judge.id}/link", {})
    assert again.status_code == 200 and "/judge?token=" in again.text and "吴评委" in again.text
    assert (await Judge.get(id=judge.id)).token_id != old
    assert (await post(http, w, f"{url}/999999/link", {})).status_code == 404
    assert (await post(http, w, f"{url}/{judge.id}/link", {}, user="organizer_b")).status_code == 404
    # Bad input: the form again, what was typed kept, the field marked.
    empty = await post(http, w, url, {"name": "", "organization": "某大学"})
    assert empty.status_code == 422 and 'value="某大学"' in empty.text
    bad_mail = await post(http, w, url, {"name": "郑评委", "organization": "某大学", "email": "not-a-mail"})
    assert bad_mail.status_code == 422 and 'value="not-a-mail"' in bad_mail.text
    assert not await Judge.exists(name="郑评委")
    assert (await post(http, w, url, {"name": "某", "organization": "某"}, user="organizer_b")).status_code == 404
    no_csrf = await as_(http, w, "organizer_a", "POST", url, data={"name": "某", "organization": "某"}, csrf=False)
    assert no_csrf.status_code == 403


async def test_assign_a_round_see_short_entries_and_loads(http: httpx.AsyncClient) -> None:
    w, c = await _world()
    scope = Scope(w.a)
    # An entry only 陈评委 may judge: 刘评委's organization, and the entrant declares a tie to 周评委's.
    crowded = await entries.submit_entry(
        c.cid,
        entries.EntryInput(title="武大光电", track="ai", organization="武汉大学", declared_ties=["湖北省科技厅"]),
        actor="test",
        scope=scope,
    )
    await entries.review_entry(c.cid, crowded.id, accept=True, reason=None, scope=scope, actor="test")
    url = f"{_base(c)}/rounds/r1"
    before = await get(http, w, url)
    assert before.status_code == 200 and "分配评委" in before.text
    ran = await post(http, w, f"{url}/assign", {"seen": "open"})
    assert (
        ran.status_code == 303 and "done=assigned" in ran.headers["location"] and "created=9" in ran.headers["location"]
    )
    assert await Assignment.filter(round__competition_id=c.cid, status=AssignmentStatus.ACTIVE).count() == 9
    after = await get(http, w, ran.headers["location"])
    html = after.text
    assert 'id="short"' in html and "武大光电" in html.split('id="short"')[1].split("</section>")[0]
    assert "重新分配" in html  # a re-run fills gaps
    seen = await overview.coverage(c.cid, "r1", scope=scope)
    assert [e.title for e in seen.short] == ["武大光电"] and sum(ld.active for ld in seen.loads) == 9
    # Re-run: keeps what is there.
    again = await post(http, w, f"{url}/assign", {"seen": "open"})
    assert "created=0" in again.headers["location"] and "kept=9" in again.headers["location"]
    # A form from before the round closed: stale, nothing done.
    await closing.close_round(c.cid, "r1", closing.CloseInput(force=True, reason="测试"), scope=scope, actor="t")
    stale = await post(http, w, f"{url}/assign", {"seen": "open"})
    assert stale.status_code == 409 and 'id="stale"' in stale.text
    assert (await post(http, w, f"{_base(c)}/rounds/zz/assign", {"seen": "open"})).status_code == 404
    assert (await get(http, w, f"{_base(c)}/rounds/a%20b")).status_code == 404


async def test_the_ranking_with_another_aggregation_and_the_disagreement_flag(
    http: httpx.AsyncClient,
) -> None:
    w, c = await _world()
    await assign_and_score(c, w.a)
    url = f"{_base(c)}/rounds/r1/ranking"
    page = await get(http, w, url)
    assert page.status_code == 200
    html = page.text
    order = [html.index(t) for t in ("光谷量子芯片", "江城细胞治疗", "珞珈新材料")]
    assert order == sorted(order)
    assert 'class="disagree"' in html and "东湖智能驾驶" in html.split('class="disagree"')[1].split("</tr>")[0]
    assert 'id="comparing"' not in html
    z = await get(http, w, url, aggregation="zscore")
    assert z.status_code == 200 and 'id="comparing"' in z.text
    mine = await ranking.round_ranking(c.cid, "r1", scope=Scope(w.a))
    other = await ranking.round_ranking(c.cid, "r1", scope=Scope(w.a), aggregation=Aggregation.ZSCORE)
    assert [r.score for r in mine.items] != [r.score for r in other.items]
    # An unknown aggregation is the competition's own.
    assert 'id="comparing"' not in (await get(http, w, url, aggregation="median")).text
    assert (await get(http, w, url, user="organizer_b")).status_code == 404


async def test_close_notice_objections_and_finalize(http: httpx.AsyncClient, frozen_clock: Any) -> None:
    w, c = await _world()
    url = f"{_base(c)}/rounds/r1"
    # Owing scores: the close is refused with the entries listed, unless forced with a reason.
    await post(http, w, f"{url}/assign", {"seen": "open"})
    owing = await post(http, w, f"{url}/close", {"seen": "open", "notice_days": "3"})
    assert owing.status_code == 409 and "<details open>" in owing.text
    bad_days = await post(http, w, f"{url}/close", {"seen": "open", "notice_days": "90"})
    assert bad_days.status_code == 422 and 'value="90"' in bad_days.text
    await assign_and_score(c, w.a)
    closed = await post(http, w, f"{url}/close", {"seen": "open", "notice_days": "3"})
    assert closed.status_code == 303 and "advanced=2" in closed.headers["location"]
    rnd = await Round.get(competition_id=c.cid, code="r1")
    assert rnd.status == RoundStatus.NOTICE and rnd.notice_days == 3
    shown = await get(http, w, closed.headers["location"])
    assert 'id="done"' in shown.text and 'id="close"' not in shown.text
    # Closing again from the old form: stale.
    again = await post(http, w, f"{url}/close", {"seen": "open"})
    assert again.status_code == 409 and 'id="stale"' in again.text

    ranked = await get(http, w, f"{url}/ranking")
    assert ranked.text.count('class="tag ok"') >= 2  # the two that went through

    objection = await closing.file_objection(
        c.cid,
        c.entries["江城细胞治疗"],
        closing.ObjectionInput(name="王五", contact="13900001111", reason="数据造假"),
        actor="test",
    )
    notice = await get(http, w, f"{url}/objections")
    assert notice.status_code == 200 and "数据造假" in notice.text and "王五" in notice.text
    decide = f"{_base(c)}/objections/{objection.id}/decide"
    no_reason = await post(http, w, decide, {"decision": "upheld", "reason": "", "round": "r1"})
    assert no_reason.status_code == 422
    early = await post(http, w, f"{url}/finalize", {"seen": "notice"})
    assert early.status_code == 409  # objections pending, notice open
    assert (await Round.get(id=rnd.id)).status == RoundStatus.NOTICE
    upheld = await post(http, w, decide, {"decision": "upheld", "reason": "查实", "round": "r1"})
    assert upheld.status_code == 303
    assert (await Objection.get(id=objection.id)).status == ObjectionStatus.UPHELD
    assert (await Entry.get(id=c.entries["江城细胞治疗"])).status == EntryStatus.ELIMINATED
    twice = await post(http, w, decide, {"decision": "dismissed", "reason": "再议", "round": "r1"})
    assert twice.status_code == 409
    still_open = await post(http, w, f"{url}/finalize", {"seen": "notice"})
    assert still_open.status_code == 409
    assert rnd.notice_ends_at is not None
    frozen_clock.set(rnd.notice_ends_at + timedelta(minutes=1))
    assert clock.now() > rnd.notice_ends_at
    for user in ("organizer_a", "organizer_b"):  # days later: a new session
        w.sessions[user] = await session_of(w.accounts[user])
    final = await post(http, w, f"{url}/finalize", {"seen": "notice"})
    assert final.status_code == 303 and "done=finalized" in final.headers["location"]
    assert (await Round.get(id=rnd.id)).status == RoundStatus.FINAL
    assert (
        await post(http, w, decide, {"decision": "upheld", "reason": "x", "round": "r1"}, user="organizer_b")
    ).status_code == 404


async def test_the_papers_under_the_console(http: httpx.AsyncClient) -> None:
    w, c = await _world()
    await assign_and_score(c, w.a)
    base = f"{_base(c)}/rounds/r1/exports"
    for kind in ("judge-sheets", "entry-sheets", "results"):
        xlsx = await get(http, w, f"{base}/{kind}")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK", kind
        html = await get(http, w, f"{base}/{kind}", format="html")
        assert html.status_code == 200 and "光谷量子芯片" in html.text, kind
    assert (await get(http, w, f"{base}/nope")).status_code == 404
    assert (await get(http, w, f"{base}/results", format="pdf")).status_code == 404
    assert (await get(http, w, f"{base}/results", user="organizer_b")).status_code == 404
    assert (await get(http, w, f"{base}/results", user="judge")).status_code == 403
    anonymous = await get(http, w, f"{base}/results", user="anonymous")
    assert anonymous.status_code == 303 and "/console/signin" in anonymous.headers["location"]


async def test_bad_input_is_a_4xx_page_never_a_500(http: httpx.AsyncClient) -> None:
    w, c = await _world()
    b = _base(c)
    gets = [
        ("/console/competitions", {"cursor": "x" * 900}),
        (f"{b}/judges", {"cursor": "garbage"}),
        (f"{b}/rounds/r1/objections", {"cursor": "garbage"}),
        (f"{b}/entries", {"q": "<script>%' OR 1=1 --", "status": "<script>", "round": ""}),
        (f"{b}/rounds/r1/ranking", {"aggregation": "../../etc", "track": "x" * 100}),
        (f"{b}/rounds/r1/exports/results", {"format": "docx"}),
        ("/console/competitions/99999999999", {}),
        ("/console/competitions/0", {}),
        (f"{b}/entries/-1", {}),
        (f"{b}/rounds/{'r' * 40}", {}),
        (f"{b}/rounds/r%2F1/ranking", {}),
    ]
    for url, params in gets:
        answer = await get(http, w, url, **params)
        assert 200 <= answer.status_code < 500, (url, answer.status_code)
        assert "<script>" not in answer.text  # what was typed comes back escaped
    posts = [
        (f"{b}/judges", {"name": "x" * 500, "organization": "y" * 500, "expertise": ",".join(["z"] * 50)}),
        (f"{b}/judges", {"name": "某", "organization": "某", "phone": "12"}),
        (f"{b}/rounds/r1/close", {"seen": "open", "notice_days": "-3"}),
        (f"{b}/rounds/r1/close", {"seen": "open", "notice_days": "abc"}),
        (f"{b}/rounds/r1/close", {"seen": "open", "force": "1"}),  # force without a reason
        (f"{b}/objections/1/decide", {"decision": "maybe", "reason": "x"}),
        (f"{b}/objections/abc/decide", {"decision": "upheld", "reason": "x", "round": "r1"}),
        (f"{b}/rounds/r1/finalize", {"seen": "open"}),
        (f"{b}/entries/review", {"decision": "accept", "entry_id": ["abc", "-4", "9999999999"]}),
    ]
    for url, data in posts:
        answer = await post(http, w, url, data)
        assert 400 <= answer.status_code < 500, (url, data, answer.status_code)
    assert await Judge.filter(competition_id=c.cid).count() == 3
    assert (await Round.get(competition_id=c.cid, code="r1")).status == RoundStatus.OPEN
