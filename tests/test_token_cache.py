"""A checked API token is taken as live for ``tokens.CHECKED_FOR`` by the process that checked it (the
door's scans skip a read); revoking it in that process refuses it at once, elsewhere within the window."""

from __future__ import annotations

import pytest

from events.errors import Unauthorized
from events.models import ApiToken, Role
from events.services import tokens


async def _issued() -> tokens.IssuedToken:
    return await tokens.create_token(role=Role.CHECKER, name="东门")


async def test_a_checked_token_is_read_once_within_the_window(db, frozen_clock, monkeypatch):
    issued = await _issued()
    reads = []
    real = tokens.get_one

    async def counting(*args, **kwargs):
        reads.append(kwargs)
        return await real(*args, **kwargs)

    monkeypatch.setattr(tokens, "get_one", counting)
    for _ in range(3):
        assert (await tokens.authenticate(issued.plaintext)).id == issued.token.id
    assert len(reads) == 1
    frozen_clock.set(frozen_clock.now + tokens.CHECKED_FOR)
    await tokens.authenticate(issued.plaintext)
    assert len(reads) == 2  # the window is over: asked again


async def test_a_token_revoked_by_another_process_is_refused_once_the_window_is_over(db, frozen_clock):
    issued = await _issued()
    await tokens.authenticate(issued.plaintext)
    # Another worker revokes it: this process learns of it by the next read.
    await ApiToken.filter(id=issued.token.id).update(revoked_at=frozen_clock.now)
    assert (await tokens.authenticate(issued.plaintext)).id == issued.token.id
    frozen_clock.set(frozen_clock.now + tokens.CHECKED_FOR)
    with pytest.raises(Unauthorized):
        await tokens.authenticate(issued.plaintext)


async def test_a_token_revoked_here_is_refused_at_once(db, frozen_clock):
    issued, other = await _issued(), await _issued()
    await tokens.authenticate(issued.plaintext)
    await tokens.authenticate(other.plaintext)
    assert await tokens.revoke_token(issued.token.id)
    with pytest.raises(Unauthorized):
        await tokens.authenticate(issued.plaintext)
    assert (await tokens.authenticate(other.plaintext)).id == other.token.id  # the others are kept


async def test_unknown_texts_are_not_kept(db, frozen_clock):
    before = len(tokens._checked)
    for n in range(20):
        with pytest.raises(Unauthorized):
            await tokens.authenticate(f"wch_guess{n}")
    assert len(tokens._checked) == before


async def test_a_clock_moved_back_asks_again(db, frozen_clock):
    issued = await _issued()
    await tokens.authenticate(issued.plaintext)
    await ApiToken.filter(id=issued.token.id).update(revoked_at=frozen_clock.now)
    frozen_clock.set(frozen_clock.now - tokens.CHECKED_FOR / 2)
    with pytest.raises(Unauthorized):
        await tokens.authenticate(issued.plaintext)
