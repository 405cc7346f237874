"""The registrant's web link: shown again unchanged, forged or rotated links refused, expiry after the event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events import clock
from events.models import Registration
from events.services import access_links
from tests.factories import make_event, make_registration


async def test_the_same_link_is_shown_again_and_leads_back(db):
    event = await make_event()
    result = await make_registration(event, name="王芳", email="wf@example.cn")
    registration = result.registration
    first = await access_links.access_token(registration)
    again = await access_links.access_token(await Registration.get(id=registration.id))
    assert first == again
    found = await access_links.registration_by_token(first)
    assert found.id == registration.id and found.event.id == event.id
    assert (await access_links.access_url(registration)).endswith(f"/r/{first}")


async def test_forged_mistyped_and_rotated_links_are_refused(db):
    event = await make_event()
    registration = (await make_registration(event, name="李雷", email="ll@example.cn")).registration
    token = await access_links.access_token(registration)
    for bad in ("", "x" * 48, token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x", "x" * 500):
        with pytest.raises(access_links.AccessLinkInvalid):
            await access_links.registration_by_token(bad)
    new = await access_links.rotate(registration)
    with pytest.raises(access_links.AccessLinkInvalid):
        await access_links.registration_by_token(token)
    assert (await access_links.registration_by_token(new)).id == registration.id


async def test_a_link_expires_a_while_after_its_event(frozen_clock, db):
    event = await make_event()
    registration = (await make_registration(event, name="韩梅梅", email="hmm@example.cn")).registration
    token = await access_links.access_token(registration)
    frozen_clock.set(event.ends_at + access_links.LINK_GRACE - timedelta(minutes=1))
    assert (await access_links.registration_by_token(token)).id == registration.id
    frozen_clock.set(event.ends_at + access_links.LINK_GRACE + timedelta(minutes=1))
    with pytest.raises(access_links.AccessLinkExpired):
        await access_links.registration_by_token(token)
    assert clock.now() > event.ends_at
