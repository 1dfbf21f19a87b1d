"""Job functions used only by the tests of the job plumbing (imported by real workers too)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from jobs.tracking import tracked


@tracked
def always_fails(row):
    """A job whose every attempt raises."""
    raise RuntimeError("simulated failure")


@tracked
def slow_on_first_attempt(row, marker_dir: str):
    """Record the work-horse pid; hang on the first attempt (to be killed), finish on later ones."""
    Path(marker_dir, f"attempt-{row.attempts}.pid").write_text(str(os.getpid()))
    if row.attempts == 1:
        time.sleep(300)
    return f"第 {row.attempts} 次執行完成"
