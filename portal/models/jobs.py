"""A database row for every background job users (or staff) can see."""

from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField, TextField

from portal.models.base import BaseModel, utcnow

# state -> zh-TW label
STATES = {
    "outbox": "待排程",  # accepted while Redis was unreachable; the sweep enqueues it
    "queued": "排隊中",
    "running": "執行中",
    "retrying": "重試中",
    "done": "完成",
    "failed": "失敗",
}
ACTIVE_STATES = ("outbox", "queued", "running", "retrying")


class Job(BaseModel):
    """One unit of background work; pages read this row, never Redis."""

    kind = CharField()
    func = CharField()
    args = TextField(default="[]")
    state = CharField(default="outbox", index=True)
    owner_id = IntegerField(null=True, index=True)
    institution_id = IntegerField(null=True, index=True)
    attempts = IntegerField(default=0)
    progress = IntegerField(default=0)
    message = TextField(default="")
    error = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    not_before = DateTimeField(null=True)  # held in the outbox until then (uploads in the maintenance window)

    @property
    def state_label(self) -> str:
        """The zh-TW name of the state."""
        return STATES.get(self.state, self.state)

    @property
    def rq_id(self) -> str:
        """The id of this job in RQ (deterministic, so a re-enqueue replaces, not duplicates)."""
        return f"portal-job-{self.id}"
