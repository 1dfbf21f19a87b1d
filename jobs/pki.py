"""Hourly PKI work: issue waiting 雲端安全模組 applications, refresh the CRL cache."""

from __future__ import annotations

from jobs import context
from jobs.tracking import tracked
from portal.logic import modules
from portal.pki import crl
from portal.pki.verify import load_trust
from portal.storage import storage_for


@tracked
def issue_modules(row):
    """Issue every waiting application (and routine ones for new contracts); safe to repeat."""
    config = context.config()
    issued = modules.issue_pending(config, storage_for(config))
    return f"已核發 {len(issued)} 組雲端安全模組。"


@tracked
def refresh_crls(row):
    """Fetch and verify every configured CRL into the cache."""
    config = context.config()
    results = crl.refresh(crl.sources(config), load_trust(config["PKI_DIR"]))
    failed = [r for r in results if r.error]
    return f"已更新 {len(results) - len(failed)} 份憑證廢止清冊" + (f"，{len(failed)} 份失敗。" if failed else "。")
