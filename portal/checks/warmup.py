"""Everything a check reads once (code tables, ICD-10 lists, field specs, messages), loaded up front.

RQ forks a work horse per job: what the worker loaded before forking, each check inherits
instead of reading it again (the ICD-10 lists alone take a quarter of a second).
"""

from __future__ import annotations

import gc
import io
import zipfile
from datetime import date, datetime

from portal.checks import samples
from portal.checks.archive import Limits
from portal.checks.claims import ClaimsForm, check_claims
from portal.checks.ic import IcForm, check_ic


def warm_up(freeze: bool = True) -> None:
    """Check the FORMATS §4.2 examples once, which loads every table the checkers use; then (freeze)
    move all that to the collector's permanent generation, so no collection walks it during a
    check and forked work horses keep the pages shared."""
    claim = io.BytesIO()
    with zipfile.ZipFile(claim, "w") as archive:
        archive.writestr("TOTFA.xml", samples.valid_claims_example())
    claim.seek(0)
    check_claims(claim, ClaimsForm("op", samples.DEFAULT_INSTITUTION, "11307", "11", date.today()), Limits())
    for version in ("1.0", "2.0"):
        check_ic(io.BytesIO(samples.valid_ic_example(version)), IcForm(samples.DEFAULT_INSTITUTION, datetime.now()),
                 Limits(), lambda keys: {})
    if freeze:
        gc.freeze()
