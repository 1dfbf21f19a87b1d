"""The HIS upload API (SPEC U2): daily IC-card uploads and 預檢, signed by the institution's security module.

POST /api/his/v1/ic-uploads (or /ic-prechecks) with the file as the raw body and the
signature headers (portal.logic.his_api) → 202 with the 收件序號; GET
/api/his/v1/uploads/<收件序號>, signed over an empty body, → state and counters.
The body is spooled and its signature checked before anything is stored.
"""

from __future__ import annotations

import hashlib
import tempfile

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from portal.extensions import csrf
from portal.identity import client_ip
from portal.logic import audit, authority, his_api, uploads
from portal.logic.audit import Actor
from portal.logic.his_api import ApiError
from portal.models.uploads import Upload
from portal.storage import storage_for
from portal.upload_limits import large_upload

bp = Blueprint("his_api", __name__, url_prefix="/api/his/v1")
csrf.exempt(bp)
CHUNK = 1024 * 1024
SERVICE = "IPA"


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A body over IC_UPLOAD_MAX_BYTES, refused from its Content-Length: JSON like every other refusal."""
    return _refused(_too_large_error())


def _too_large_error() -> ApiError:
    """The refusal of a body over the limit (from its length, or while reading a body without one)."""
    limit = current_app.config["IC_UPLOAD_MAX_BYTES"] // 2**20
    return ApiError(413, "too_large", f"檔案超過 {limit} MB 上限，系統未接收此檔案。")


@bp.errorhandler(ApiError)
def _refused(error: ApiError):
    """Refusals are JSON with a zh-TW message, and audited."""
    audit.record("his_api", Actor("HIS 介面", ip=client_ip(), user_agent=request.headers.get("User-Agent", "")),
                 result="denied", detail={"code": error.code, "path": request.path})
    return jsonify(error=error.code, message=error.message), error.status


@bp.post("/ic-uploads")
@large_upload("IC_UPLOAD_MAX_BYTES")
def ic_upload():
    """A daily IC-card upload (健保卡就醫資料上傳)."""
    return _receive("ic")


@bp.post("/ic-prechecks")
@large_upload("IC_UPLOAD_MAX_BYTES")
def ic_precheck():
    """A pre-check upload (健保卡就醫資料預檢)."""
    return _receive("ic_precheck")


def _receive(kind: str):
    """Spool and hash the body, verify the module's signature over it, then receive it as an upload."""
    config = current_app.config
    signed = his_api.read_headers(request.headers)
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
        digest, size = hashlib.sha256(), 0
        while chunk := request.stream.read(CHUNK):
            size += len(chunk)
            if size > uploads.max_bytes(config, kind):
                raise _too_large_error()
            digest.update(chunk)
            spool.write(chunk)
        institution, module_no = his_api.verify(config, signed, kind, digest.hexdigest())
        his_api.use_nonce(signed.nonce)
        if SERVICE not in authority.applied_services(institution):
            raise ApiError(403, "service", "本機構尚未申請「健保卡就醫資料上傳」(IPA) 服務。")
        spool.seek(0)
        actor = Actor(f"HIS（安全模組 {module_no}）", None, institution.id, client_ip(),
                      request.headers.get("User-Agent", ""))
        sender = uploads.Sender(institution.id, institution.code, None, actor, module_no)
        name = request.headers.get("X-NHI-File-Name") or f"{institution.code}_his.xml"
        try:
            upload = uploads.receive(config, storage_for(config), sender, kind, spool, name, {}, channel="api")
        except uploads.TooLarge:
            raise _too_large_error() from None
    return jsonify(_state(upload)), 202


@bp.get("/uploads/<receipt>")
def status(receipt: str):
    """An upload's state and counters (signed over an empty body with action status:<收件序號>)."""
    signed = his_api.read_headers(request.headers)
    institution, _ = his_api.verify(current_app.config, signed, f"status:{receipt}", hashlib.sha256(b"").hexdigest())
    his_api.use_nonce(signed.nonce)
    upload = Upload.get_or_none((Upload.institution == institution.id) & (Upload.receipt_no == receipt[:20])
                                & Upload.kind.in_(("ic", "ic_precheck")))
    if upload is None:
        raise ApiError(404, "not_found", "查無此收件序號。")
    return jsonify(_state(upload))


def _state(upload: Upload) -> dict:
    """What a HIS program needs to know about an upload."""
    done = upload.state == "done"
    return {
        "receipt_no": upload.receipt_no, "kind": upload.kind, "state": upload.state, "state_label": upload.state_label,
        "result": upload.result, "result_label": upload.result_label,
        "received_at": upload.received_at.isoformat() + "Z", "check_from": upload.check_from.isoformat() + "Z",
        "records": upload.records if done else None, "valid_records": upload.records - upload.invalid_records
        if done else None, "invalid_records": upload.invalid_records if done else None,
        "orders": upload.orders if done else None, "invalid_orders": upload.invalid_orders if done else None,
        "message": upload.message, "report_available": bool(upload.report_id),
        "status_url": url_for("his_api.status", receipt=upload.receipt_no),
    }
