"""Events, reference lists, goals and health through HTTP."""

from __future__ import annotations

from datetime import timedelta

from events import clock
from tests.factories import bearer, make_event, make_token


def event_body(**overrides: object) -> dict[str, object]:
    start = clock.now() + timedelta(days=10)
    return {
        "title": "武创荟·光电子信息专场",
        "kind": "session",
        "series": "wuchuanghui",
        "district": "donghu_gaoxin",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "venue": "光谷国际人才大厦",
        "capacity": 120,
        "tags": ["光电子信息", "成果转化"],
    } | overrides


async def test_health_and_districts(client):
    assert (await client.get("/health")).json() == {"status": "ok", "database": "ok"}
    items = (await client.get("/api/v1/districts")).json()["items"]
    names = {d["name"] for d in items}
    assert len(items) == 17
    assert {"东湖新技术开发区", "武汉经济技术开发区", "长江新区", "东湖生态旅游风景区", "江岸区", "新洲区"} <= names


async def test_create_publish_read_list_cancel(client, frozen_clock):
    token = await make_token()
    created = await client.post("/api/v1/events", json=event_body(), headers=bearer(token))
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["status"] == "draft"
    assert event["starts_at"].endswith("+08:00")
    assert (event["seats_taken"], event["waitlist_length"], event["district_name"]) == (0, 0, "东湖新技术开发区")
    # Drafts are invisible to the public.
    assert (await client.get(f"/api/v1/events/{event['id']}")).status_code == 404
    assert (await client.get("/api/v1/events")).json()["items"] == []
    assert (await client.get(f"/api/v1/events/{event['id']}", headers=bearer(token))).status_code == 200
    published = await client.post(f"/api/v1/events/{event['id']}/publish", headers=bearer(token))
    assert published.json()["status"] == "published"
    listed = (await client.get("/api/v1/events")).json()
    assert [e["id"] for e in listed["items"]] == [event["id"]]
    patched = await client.patch(
        f"/api/v1/events/{event['id']}", json={"capacity": None, "venue": "武汉大学"}, headers=bearer(token)
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["capacity"], patched.json()["sequence"]) == (None, 1)
    cancelled = await client.post(
        f"/api/v1/events/{event['id']}/cancel", json={"reason": "场地调整"}, headers=bearer(token)
    )
    assert cancelled.json()["status"] == "cancelled"
    again = await client.post(f"/api/v1/events/{event['id']}/cancel", headers=bearer(token))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"


async def test_filters_and_cursor_pagination(client, frozen_clock):
    for i in range(5):
        await make_event(
            district="wuchang" if i % 2 else "hongshan",
            starts_in=timedelta(days=i + 1),
            kind="roadshow" if i == 4 else "session",
        )
    page = (await client.get("/api/v1/events", params={"limit": 2})).json()
    seen = [e["id"] for e in page["items"]]
    while page["next_cursor"]:
        page = (await client.get("/api/v1/events", params={"limit": 2, "cursor": page["next_cursor"]})).json()
        seen += [e["id"] for e in page["items"]]
    assert len(seen) == len(set(seen)) == 5
    wuchang = (await client.get("/api/v1/events", params={"district": "wuchang"})).json()["items"]
    assert {e["district"] for e in wuchang} == {"wuchang"} and len(wuchang) == 2
    assert len((await client.get("/api/v1/events", params={"kind": "roadshow"})).json()["items"]) == 1
    later = await client.get("/api/v1/events", params={"from": (clock.now() + timedelta(days=3)).isoformat()})
    assert len(later.json()["items"]) == 3
    assert len((await client.get("/api/v1/events", params={"q": "人工智能"})).json()["items"]) == 5
    bad = await client.get("/api/v1/events", params={"cursor": "garbage!!"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"


async def test_finished_status_is_derived(client, frozen_clock):
    event = await make_event()
    frozen_clock.set(event.ends_at + timedelta(seconds=1))
    assert (await client.get(f"/api/v1/events/{event.id}")).json()["status"] == "finished"
    finished = (await client.get("/api/v1/events", params={"status": "finished"})).json()["items"]
    assert [e["id"] for e in finished] == [event.id]


async def test_goals_count_held_wuchuanghui_sessions(client, frozen_clock):
    held = await make_event(series="wuchuanghui")
    await make_event(series="wuchuanghui", starts_in=timedelta(days=30))
    await make_event(series="yingxiongbei")
    frozen_clock.set(held.ends_at + timedelta(days=1))
    goals = {g["key"]: g for g in (await client.get("/api/v1/goals")).json()["items"]}
    assert set(goals) >= {
        "wuchuanghui_sessions",
        "brokers_trained",
        "demands_collected",
        "key_achievements",
        "major_transfers",
    }
    assert (goals["wuchuanghui_sessions"]["target"], goals["wuchuanghui_sessions"]["current"]) == (60, 1)
    assert goals["brokers_trained"] | {"title": None} == {
        "key": "brokers_trained",
        "title": None,
        "target": 1000,
        "current": 0,
        "unit": goals["brokers_trained"]["unit"],
        "tracked": True,
    }
    english = (await client.get("/api/v1/goals", headers={"Accept-Language": "en"})).json()["items"]
    assert english[0]["title"] == "武创荟 sessions held"


async def test_roles_and_tokens(client, frozen_clock):
    checker = await make_token(role="checker")
    no_token = await client.post("/api/v1/events", json=event_body())
    assert no_token.status_code == 401 and no_token.json()["error"]["code"] == "unauthorized"
    wrong_role = await client.post("/api/v1/events", json=event_body(), headers=bearer(checker))
    assert wrong_role.status_code == 403 and wrong_role.json()["error"]["code"] == "forbidden"
    forged = await client.post("/api/v1/events", json=event_body(), headers=bearer("wch_forged"))
    assert forged.status_code == 401
    malformed = await client.post("/api/v1/events", json=event_body(), headers={"Authorization": "Basic abc"})
    assert malformed.status_code == 401
    admin = await make_token(role="admin")
    assert (await client.post("/api/v1/events", json=event_body(), headers=bearer(admin))).status_code == 201


async def test_unknown_ids_are_404_in_the_error_shape(client):
    for path in ("/api/v1/events/999999", "/api/v1/registrations/999999", "/api/v1/nowhere"):
        response = await client.get(path, headers=bearer(await make_token()))
        assert response.status_code == 404, path
        assert set(response.json()["error"]) >= {"code", "message"}


async def test_admin_manages_tokens_over_http(client):
    admin = await make_token(role="admin")
    organizer = await make_token(role="organizer")
    assert (await client.get("/api/v1/tokens", headers=bearer(organizer))).status_code == 403
    created = await client.post("/api/v1/tokens", json={"role": "checker", "name": "东门"}, headers=bearer(admin))
    assert created.status_code == 201 and created.json()["token"].startswith("wch_")
    listed = (await client.get("/api/v1/tokens", headers=bearer(admin))).json()["items"]
    assert "token" not in listed[0] and len(listed) == 3
    new_id = created.json()["id"]
    assert (await client.post(f"/api/v1/tokens/{new_id}/revoke", headers=bearer(admin))).status_code == 200
    assert (await client.get("/api/v1/events", headers=bearer(created.json()["token"]))).status_code == 401
    assert (await client.post("/api/v1/tokens/9999/revoke", headers=bearer(admin))).status_code == 404
    bad = await client.post("/api/v1/tokens", json={"role": "king", "name": "x"}, headers=bearer(admin))
    assert bad.status_code == 422


async def test_docs_page_uses_only_local_assets(client):
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text
    assert (await client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")).status_code == 200
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "wuchuang"
