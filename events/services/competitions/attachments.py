"""An entry's files (business plan, slides): who may add them, who may read them.

Adding: the competition's organizer, or the entrant — by the entry's capability key (the web form's
link, a bearer text) or as the person who submitted it (the bot). Reading: the organizer, and judges
assigned to the entry (an active assignment in any round) with no conflict logged against it — a
conflicted or recused judge never gets an entry's files. The bytes go through ``storage`` after
``storage.check_upload`` decided what they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from events import clock, secretbox
from events.errors import (
    N_,
    AttachmentNotFound,
    ConflictOfInterest,
    EntriesClosed,
    EntryNotFound,
    InvalidInput,
    NotAssigned,
)
from events.models import (
    Assignment,
    AssignmentStatus,
    AttachmentKind,
    CompetitionStatus,
    ConflictRecord,
    Entry,
    EntryAttachment,
    EntryStatus,
    Judge,
)
from events.services import activity
from events.services.competitions.config import owned_competition
from events.services.competitions.storage import PPT, PPTX, Storage, check_upload, new_key
from events.services.organizations import Scope

KEY_PURPOSE = "competition-entry"
MAX_FILES = 10  # per entry: a plan, slides, a few annexes


def entry_key(entry_id: int) -> str:
    """The entrant's capability for one entry (adding its files), derived from the at-rest key: it can
    be shown again (the form's answer, the bot) and no database dump holds it."""
    return secretbox.current().capability(KEY_PURPOSE, f"{entry_id:016d}")


def entry_id_of_key(key: str | None) -> int | None:
    seed = secretbox.current().seed_of(KEY_PURPOSE, key or "")
    return int(seed) if seed is not None and seed.isdigit() else None


@dataclass(frozen=True, slots=True)
class Uploader:
    """Who adds a file: an organizer's scope, the entry's key, or the entrant as a person."""

    actor: str
    scope: Scope | None = None
    key: str | None = None
    person_id: int | None = None


async def _entry_for(competition_id: int, entry_id: int, who: Uploader) -> Entry:
    if who.scope is not None:
        await owned_competition(competition_id, who.scope)
        entry = await Entry.get_or_none(id=entry_id, competition_id=competition_id)
    else:
        entry = await Entry.get_or_none(id=entry_id, competition_id=competition_id)
        by_key = who.key is not None and entry_id_of_key(who.key) == entry_id
        by_person = (
            entry is not None
            and who.person_id is not None
            and who.person_id in (entry.submitted_by_id, entry.leader_id)
        )
        if not (by_key or by_person):
            entry = None  # someone else's entry does not exist for them
    if entry is None:
        raise EntryNotFound()
    return entry


def default_kind(extension: str) -> AttachmentKind:
    return AttachmentKind.SLIDES if extension in (PPT.extension, PPTX.extension) else AttachmentKind.BUSINESS_PLAN


async def add_attachment(
    competition_id: int,
    entry_id: int,
    *,
    filename: str | None,
    data: bytes,
    who: Uploader,
    storage: Storage,
    max_bytes: int,
    kind: AttachmentKind | None = None,
) -> EntryAttachment:
    """Check the file (size, type from its bytes, name against type), store it, record it. An entrant
    adds files while the competition is open and the entry is not withdrawn or rejected. Raises
    ``competition_not_found``, ``entry_not_found``, ``invalid_input`` (empty, too many files),
    ``attachment_too_large``, ``attachment_type_not_allowed``, ``attachment_type_mismatch``,
    ``entries_closed``.
    """
    entry = await _entry_for(competition_id, entry_id, who)
    competition = await owned_competition(competition_id, None)
    if who.scope is None and (
        competition.status in (CompetitionStatus.FINISHED, CompetitionStatus.CANCELLED)
        or entry.status in (EntryStatus.WITHDRAWN, EntryStatus.REJECTED)
    ):
        raise EntriesClosed()
    checked = check_upload(filename, data, max_bytes=max_bytes)
    if await EntryAttachment.filter(entry_id=entry.id).count() >= MAX_FILES:
        raise InvalidInput(N_("An entry holds at most %(n)s files."), field="file", n=MAX_FILES)
    key = new_key(competition_id, entry.id, checked.kind.extension)
    await storage.put(key, data)
    try:
        async with in_transaction() as conn:
            attachment = await EntryAttachment.create(
                entry_id=entry.id,
                kind=kind or default_kind(checked.kind.extension),
                filename=checked.filename,
                content_type=checked.kind.content_type,
                size=checked.size,
                storage_key=key,
                sha256=checked.sha256,
                uploaded_by=who.actor[:100],
                uploaded_at=clock.now(),
                using_db=conn,
            )
            await activity.record(
                "competition.attachment_added",
                actor=who.actor,
                using_db=conn,
                event_id=competition.launch_event_id,
                competition_id=competition_id,
                entry_id=entry.id,
                attachment_id=attachment.id,
                filename=checked.filename,
                sha256=checked.sha256,
                size=checked.size,
            )
    except BaseException:
        await storage.delete(key)  # no row, no file: a failed write leaves nothing behind
        raise
    return attachment


async def attachments_of(entry_ids: list[int]) -> dict[int, list[EntryAttachment]]:
    """Entry id → its files, oldest first (the judge page lists them)."""
    found: dict[int, list[EntryAttachment]] = {i: [] for i in entry_ids}
    for a in await EntryAttachment.filter(entry_id__in=entry_ids).order_by("uploaded_at", "id"):
        found[a.entry_id].append(a)
    return found


async def may_judge_read(judge: Judge, entry_id: int) -> None:
    """Raises ``conflict_of_interest`` (a conflict or recusal logged), ``not_assigned``."""
    logged = await ConflictRecord.filter(judge_id=judge.id, entry_id=entry_id).first()
    if logged is not None:
        raise ConflictOfInterest(rule=logged.rule)
    if not await Assignment.exists(judge_id=judge.id, entry_id=entry_id, status=AssignmentStatus.ACTIVE):
        raise NotAssigned()


async def list_attachments(
    competition_id: int, entry_id: int, *, scope: Scope | None = None, judge: Judge | None = None
) -> list[EntryAttachment]:
    """An entry's files for its organizer (``scope``) or an assigned, unconflicted ``judge``. Raises
    ``competition_not_found``, ``entry_not_found``, ``conflict_of_interest``, ``not_assigned``."""
    await owned_competition(competition_id, scope)
    if not await Entry.exists(id=entry_id, competition_id=competition_id):
        raise EntryNotFound()
    if scope is None:
        assert judge is not None, "a reader is an organizer's scope or a judge"
        if judge.competition_id != competition_id:
            raise EntryNotFound()
        await may_judge_read(judge, entry_id)
    return (await attachments_of([entry_id]))[entry_id]


async def read_attachment(
    competition_id: int,
    entry_id: int,
    attachment_id: int,
    *,
    storage: Storage,
    scope: Scope | None = None,
    judge: Judge | None = None,
) -> tuple[EntryAttachment, bytes]:
    """A file and its bytes, for the same readers as ``list_attachments``. Raises those errors and
    ``attachment_not_found``."""
    await list_attachments(competition_id, entry_id, scope=scope, judge=judge)
    attachment = await EntryAttachment.get_or_none(id=attachment_id, entry_id=entry_id)
    if attachment is None:
        raise AttachmentNotFound()
    return attachment, await storage.get(attachment.storage_key)
