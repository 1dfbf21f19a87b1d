"""常見問答: categories of questions with HTML answers."""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField, TextField

from portal.models.base import BaseModel


class FaqCategory(BaseModel):
    """A 類別 of the FAQ (權限類, 電子憑證卡類 …)."""

    name = CharField(unique=True)
    position = IntegerField(default=0)


class Faq(BaseModel):
    """A question; `answer` is sanitized HTML."""

    category = ForeignKeyField(FaqCategory, backref="items", on_delete="CASCADE")
    question = CharField()
    answer = TextField()
    position = IntegerField(default=0)

    class Meta:
        indexes = ((("category", "question"), True),)
