"""Files NHIA provides to an institution (SPEC D1, D3, D5): who may see them, what state each is in.

Every function takes `now` so states can be checked at any day of a file's
life. A file is downloadable for FILE_RETENTION_DAYS from the start of its
window (when it was provided, or when a 申請 re-served it); afterwards it can be
requested, and the next day's job opens a new window.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import OP, SQL, Expression, Select, Value, fn

from portal.db import database, write_transaction
from portal.logic import audit
from portal.logic.audit import Actor
from portal.logic.pagination import Page, paginate
from portal.logic.roc_dates import taipei_to_utc, to_taipei
from portal.models.authority import Institution
from portal.models.base import utcnow
from portal.models.files import StoredFile
from portal.models.institution_files import FileDownload, FileRequest, InstitutionFile

PAGE_SIZE = 10
# 下載捷徑專區 filters, in the seed's order; the first two are ticked by default.
FILTERS = {"resent": "申請重送", "pending": "申請中", "recent": "近期提供"}
DEFAULT_FILTERS = ("resent", "pending")
NO_FILTER_MESSAGE = "請勾選一個以上查詢條件"


@dataclass(frozen=True)
class RowState:
    """What a row shows: a state code, its zh-TW label, a colour class and the countdown."""

    code: str  # ready, downloaded, pending, refused, expired
    label: str
    expires_at: datetime | None = None
    days_left: int | None = None

    @property
    def downloadable(self) -> bool:
        """Whether 下載 / 加密下載 are offered."""
        return self.code in ("ready", "downloaded")

    @property
    def colour(self) -> str:
        """green (ready), blue (downloaded, still within the window), orange (pending), grey (expired)."""
        return {"ready": "green", "downloaded": "blue", "pending": "orange", "refused": "orange"}.get(
            self.code, "grey")


def retention(config) -> timedelta:
    """How long a file stays downloadable."""
    return timedelta(days=config["FILE_RETENTION_DAYS"])


def state_of(row: InstitutionFile, now: datetime, keep: timedelta, downloaded: bool) -> RowState:
    """The state of a file for a person at a moment (downloaded: this person fetched it already)."""
    if row.request_state == "pending":
        return RowState("pending", "申請中")
    if row.request_state == "refused":
        return RowState("refused", "請洽所屬轄區承辦同仁")
    expires = row.available_from + keep
    if now >= expires:
        return RowState("expired", "已逾下載期限，請申請")
    days_left = math.ceil((expires - now).total_seconds() / 86400)
    again = "申請重送，" if row.request_state == "served" else ""
    if downloaded:
        return RowState("downloaded", f"{again}已下載，期限內可再下載", expires, days_left)
    return RowState("ready", f"{again}可下載", expires, days_left)


@dataclass(frozen=True)
class Listed:
    """A file with its state for the person looking."""

    file: InstitutionFile
    state: RowState


def visible(institution_id: int, services) -> object:
    """Condition: the institution's files of services this session was granted."""
    return (InstitutionFile.institution == institution_id) & (InstitutionFile.service_code.in_(sorted(services)))


def parse_filters(args) -> tuple[tuple[str, ...], str]:
    """Ticked filters from a query string, and the warning when a submitted query ticks none.

    A first visit (no `q`) uses the defaults; `q` marks a submitted form, so
    unticking everything is told apart from not having asked yet.
    """
    if not args.get("q"):
        return DEFAULT_FILTERS, ""
    chosen = tuple(key for key in FILTERS if args.get(key))
    return chosen, "" if chosen else NO_FILTER_MESSAGE


def shortcut_groups(institution_id: int, services, filters, now: datetime, keep: timedelta) -> list:
    """Conditions of the ticked groups of 下載捷徑專區, disjoint so their counts add up."""
    cutoff = now - keep
    f = InstitutionFile
    mine = (f.institution == institution_id) & f.service_code.in_(sorted(services))
    groups = []
    if "pending" in filters:
        groups.append(mine & f.request_state.in_(("pending", "refused")))
    window = f.available_from > cutoff
    if "recent" in filters:
        # A re-served file is back in its window, so it is 近期提供 too (seed 003 參五).
        groups.append(mine & window & f.request_state.not_in(("pending", "refused")))
    elif "resent" in filters:
        groups.append(mine & (f.request_state == "served") & window)
    return groups


def shortcut_query(institution_id: int, services, filters, now: datetime, keep: timedelta):
    """Ids (and order keys) of 下載捷徑專區's rows, newest change first.

    Each group is read from a covering index ((institution, request_state, …) or
    (institution, available_from, …)) and only their union is sorted, so a
    hospital with a hundred thousand old files reads just its pending and recent
    index entries, and table rows only for the page shown.
    """
    f = InstitutionFile
    groups = shortcut_groups(institution_id, services, filters, now, keep)
    query = f.select(f.id, f.listed_at).where(groups[0])
    for group in groups[1:]:
        query = query + f.select(f.id, f.listed_at).where(group)  # UNION ALL: the groups are disjoint
    return query.order_by(SQL("listed_at").desc(), SQL("id").desc())


def downloaded_ids(person_id: int | None, file_ids) -> set[int]:
    """Which of these files the person has downloaded (any mode, single or bulk)."""
    if person_id is None or not file_ids:
        return set()
    return {r.file_id for r in FileDownload.select(FileDownload.file).where(
        (FileDownload.person == person_id) & FileDownload.file.in_(list(file_ids))).distinct()}


def with_states(rows, person_id: int | None, now: datetime, keep: timedelta) -> list[Listed]:
    """Attach each row's state for this person."""
    rows = list(rows)
    seen = downloaded_ids(person_id, [r.id for r in rows])
    return [Listed(r, state_of(r, now, keep, r.id in seen)) for r in rows]


def shortcut_page(institution_id: int, services, person_id, filters, raw_page, now: datetime,
                  keep: timedelta) -> Page:
    """One page of 下載捷徑專區 with each row's state, in two queries: the count, then the page.

    Peewee spends longer building a query's SQL than the database answering these
    (the indexes are covering), so the groups are counted in one statement and the
    page's rows come with their downloaded-by-me flag.
    """
    f = InstitutionFile
    groups = shortcut_groups(institution_id, services, filters, now, keep)
    counts = [f.select(fn.COUNT(SQL("*"))).where(g) for g in groups]
    # Expression, not `+`: on queries peewee's `+` means UNION ALL.
    total_sql = functools.reduce(lambda a, b: Expression(a, OP.ADD, b), counts)
    total = Select(columns=[total_sql]).bind(database).scalar()
    page = paginate(shortcut_query(institution_id, services, filters, now, keep), raw_page, PAGE_SIZE,
                    total=total, fetch=False)
    ids = Select(columns=[SQL("id")]).from_(page.items.alias("shown"))
    seen = (fn.EXISTS(FileDownload.select(SQL("1")).where((FileDownload.file == f.id)
                                                          & (FileDownload.person == person_id)))
            if person_id is not None else Value(False))
    rows = f.select(f, seen.alias("seen")).where(f.id.in_(ids)).order_by(f.listed_at.desc(), f.id.desc())
    page.items = [Listed(r, state_of(r, now, keep, bool(r.seen))) for r in rows]
    return page


def find_visible(file_id, institution_id: int, services) -> InstitutionFile | None:
    """A file this session may see; None for unknown ids, other institutions' files and ungranted services."""
    try:
        file_id = int(file_id)
    except (TypeError, ValueError):
        return None
    return InstitutionFile.get_or_none((InstitutionFile.id == file_id) & visible(institution_id, services))


def find_all_visible(file_ids: list[int], institution_id: int, services) -> list[InstitutionFile] | None:
    """These files in this order if the session may see every one of them; None otherwise (one query)."""
    rows = {r.id: r for r in InstitutionFile.select().where(
        InstitutionFile.id.in_(file_ids) & visible(institution_id, services))}
    return [rows[i] for i in file_ids] if all(i in rows for i in file_ids) else None


def request_again(row: InstitutionFile, person, actor: Actor, now: datetime, keep: timedelta) -> str:
    """申請 an expired file; returns the zh-TW message for the user (idempotent)."""
    with write_transaction():
        fresh = InstitutionFile.get_by_id(row.id)
        if fresh.request_state in ("pending", "refused"):
            return "此檔案已在申請中，請於次日至「下載捷徑專區」下載。"
        if now < fresh.available_from + keep:
            return "此檔案仍在下載期限內，請直接下載。"
        FileRequest.create(file=fresh.id, person=person.id if person else None, requested_by=actor.label,
                           requested_at=now)
        InstitutionFile.update(request_state="pending", listed_at=now).where(
            InstitutionFile.id == fresh.id).execute()
        audit.record("file_request", actor, detail={"file_id": fresh.id, "name": fresh.name}, now=now)
    return "已受理申請，請於次日至「下載捷徑專區」下載。"


def serve_requests(now: datetime, reissue_limit: timedelta, storage) -> dict[str, int]:
    """The next-day job: open a new window for every request made before today (Taipei).

    A file older than the re-issue limit, or whose stored copy is gone, cannot be
    served automatically: its row says 請洽所屬轄區承辦同仁.
    """
    start_of_today = taipei_to_utc(to_taipei(now).date())
    served = refused = 0
    pending = (FileRequest.select(FileRequest, InstitutionFile).join(InstitutionFile)
               .where((FileRequest.state == "pending") & (FileRequest.requested_at < start_of_today))
               .order_by(FileRequest.id))
    for request in list(pending):
        row = request.file
        ok = now - row.provided_at <= reissue_limit and storage.exists(row.stored_file.key)
        with write_transaction():
            if ok:
                FileRequest.update(state="served", served_at=now).where(FileRequest.id == request.id).execute()
                InstitutionFile.update(request_state="served", available_from=now, listed_at=now).where(
                    InstitutionFile.id == row.id).execute()
                served += 1
            else:
                FileRequest.update(state="refused").where(FileRequest.id == request.id).execute()
                InstitutionFile.update(request_state="refused", listed_at=now).where(
                    InstitutionFile.id == row.id).execute()
                refused += 1
    return {"served": served, "refused": refused}


def record_download(rows, person, mode: str, bulk: bool, actor: Actor, now: datetime) -> None:
    """Remember who fetched what (colours, the bulk button), audit it, and record first views (D5)."""
    with write_transaction():
        for row in rows:
            if person is not None:
                FileDownload.create(file=row.id, person=person.id, mode=mode, bulk=bulk, at=now)
            audit.record("file_download", actor, now=now, detail={
                "file_id": row.id, "name": row.name, "mode": "加密" if mode != "plain" else "一般",
                "bulk": bulk})
            if row.notice and row.first_viewed_at is None:
                first = (InstitutionFile.update(first_viewed_at=now, first_viewed_by=actor.label)
                         .where((InstitutionFile.id == row.id) & InstitutionFile.first_viewed_at.is_null())
                         .execute())
                if first:
                    audit.record("notice_delivered", actor, now=now, detail={
                        "file_id": row.id, "name": row.name, "delivered_at": now.isoformat(timespec="seconds")})


def new_for_bulk(institution_id: int, services, person_id: int, now: datetime, keep: timedelta) -> list:
    """Files in their window this person has not downloaded yet, oldest first (the bulk button)."""
    mine = FileDownload.select(FileDownload.file).where(FileDownload.person == person_id)
    return list(InstitutionFile.select().where(
        visible(institution_id, services) & (InstitutionFile.available_from > now - keep)
        & InstitutionFile.request_state.not_in(("pending", "refused")) & InstitutionFile.id.not_in(mine))
        .order_by(InstitutionFile.available_from, InstitutionFile.id))


def expiring_unread(institution_id: int, services, person_id: int | None, now: datetime, keep: timedelta,
                    days: int) -> list[InstitutionFile]:
    """Files not yet downloaded by this person whose window closes within `days` (layer-1 notice)."""
    if person_id is None or not services:
        return []
    soon = now - keep + timedelta(days=days)
    mine = FileDownload.select(FileDownload.file).where(FileDownload.person == person_id)
    return list(InstitutionFile.select().where(
        visible(institution_id, services) & (InstitutionFile.available_from > now - keep)
        & (InstitutionFile.available_from <= soon)
        & InstitutionFile.request_state.not_in(("pending", "refused")) & InstitutionFile.id.not_in(mine))
        .order_by(InstitutionFile.available_from).limit(20))


def notices_due(now: datetime, send_from_hour: int) -> list[InstitutionFile]:
    """E-delivered notices not yet viewed that have had no mail today (Taipei) — the daily reminder."""
    local = to_taipei(now)
    if local.hour < send_from_hour:
        return []
    start_of_today = taipei_to_utc(local.date())
    return list(InstitutionFile.select(InstitutionFile, Institution).join(Institution)
                .where((InstitutionFile.notice != "") & InstitutionFile.first_viewed_at.is_null()
                       & Institution.e_delivery_since.is_null(False)
                       & (InstitutionFile.provided_at >= Institution.e_delivery_since)
                       & (InstitutionFile.notified_at.is_null() | (InstitutionFile.notified_at < start_of_today)))
                .order_by(InstitutionFile.id))



def provide(storage, institution_id: int, service_code: str, category: str, name: str, data, *,
            description: str = "", description_file: tuple[str, bytes] | None = None, fee_month: int | None = None,
            medical_category: str = "", parts=None, notice: str = "", content_type: str = "application/octet-stream",
            at: datetime | None = None) -> InstitutionFile:
    """Hand a file to an institution (what every producing service calls); its window opens at `at`."""
    at = at or utcnow()
    stored = _store(storage, name, data, content_type)
    described = _store(storage, description_file[0], description_file[1], "text/plain") if description_file else None
    return InstitutionFile.create(
        institution=institution_id, service_code=service_code, category=category, name=name,
        description=description, stored_file=stored, description_file=described, fee_month=fee_month,
        medical_category=medical_category, parts=json.dumps(parts or [], ensure_ascii=False), provided_at=at,
        available_from=at, listed_at=at, notice=notice)


def _store(storage, name: str, data, content_type: str) -> StoredFile:
    """Write a blob under a generated key (never the given name) and record it."""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    blob = storage.write(storage.new_key("institution-files", extension if extension.isalnum() else ""), data)
    return StoredFile.create(key=blob.key, name=name, content_type=content_type, size=blob.size, sha256=blob.sha256)
