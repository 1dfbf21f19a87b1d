"""常見問答 (P7): filter by category and keyword over question and answer."""

from __future__ import annotations

from portal.logic.keywords import Keyword, matches_any
from portal.models.faq import Faq, FaqCategory


def categories() -> list[FaqCategory]:
    """FAQ categories in order."""
    return list(FaqCategory.select().order_by(FaqCategory.position, FaqCategory.id))


def find_category(raw_id) -> FaqCategory | None:
    """A category from a query-string value; None for 全部 or anything unknown."""
    try:
        return FaqCategory.get_or_none(FaqCategory.id == int(raw_id))
    except (TypeError, ValueError):
        return None


def questions(category: FaqCategory | None, keyword: Keyword):
    """Questions (with their category) in category order, then question order."""
    query = (
        Faq.select(Faq, FaqCategory)
        .join(FaqCategory)
        .order_by(FaqCategory.position, FaqCategory.id, Faq.position, Faq.id)
    )
    if category is not None:
        query = query.where(Faq.category == category)
    if keyword:
        query = query.where(matches_any([Faq.question, Faq.answer], keyword))
    return query


def find_question(raw_id) -> Faq | None:
    """One question by id."""
    try:
        return Faq.select(Faq, FaqCategory).join(FaqCategory).where(Faq.id == int(raw_id)).first()
    except (TypeError, ValueError):
        return None


def grouped(questions) -> list[tuple[FaqCategory, list[Faq]]]:
    """Questions (already in category order) as (category, questions) pairs."""
    groups: list[tuple[FaqCategory, list[Faq]]] = []
    for q in questions:
        if not groups or groups[-1][0].id != q.category.id:
            groups.append((q.category, []))
        groups[-1][1].append(q)
    return groups
