"""Certificate revocation lists fetched by the scheduled job, one per issuing CA."""

from __future__ import annotations

from peewee import BlobField, CharField, DateTimeField

from portal.models.base import BaseModel, utcnow


class CrlCache(BaseModel):
    """The newest verified CRL of one issuer (keyed by the issuer's name)."""

    issuer = CharField(unique=True)
    source = CharField(default="")
    der = BlobField()
    this_update = DateTimeField()
    next_update = DateTimeField(null=True)
    fetched_at = DateTimeField(default=utcnow)
