"""機構授權作業 screens: 機構管理者維護, 健保服務申請, 機構使用者維護, 使用者授權管理,
雲端安全模組申請、下載, 允入HIS廠商申請, and the institution's audit log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal.htmx import render_page
from portal.identity import deny_access, roles_required, today, unauthorized
from portal.logic import audit, authority, catalogue, his_vendors, modules
from portal.logic.pagination import paginate, paginate_list
from portal.logic.roc_dates import DateInputError, parse_date, roc_date
from portal.models.authority import ROLES
from portal.models.base import utcnow
from portal.views.files import send_stored

bp = Blueprint("authority", __name__, url_prefix="/authority", template_folder=None)

# Who maintains which appointments: the representative appoints managers, managers appoint users.
MAINTAINERS = {"manager": "representative", "user": "manager"}
GRANTS_PER_PAGE = 10
AUDIT_PER_PAGE = 20


def _institution():
    return current_user.institution


# --- 機構管理者維護作業 / 機構使用者維護作業 ------------------------------------------------------

@bp.get("/managers")
@roles_required("representative")
def managers():
    """機構管理者維護作業: the list."""
    return _people_list("manager")


@bp.get("/users")
@roles_required("manager")
def users():
    """機構使用者維護作業: the list."""
    return _people_list("user")


def _people_list(role: str):
    """Appointments of a role with their state today."""
    rows = list(authority.appointments(_institution(), role))
    return render_page("authority/people.html", role=role, role_name=ROLES[role], rows=rows, today=today(),
                       is_active=authority.is_active)


@bp.route("/<any(managers,users):kind>/new", methods=["GET", "POST"])
def new_person(kind: str):
    """新增: identity, birth date (ROC), 生效起日/迄日; the default 健保卡 password is explained."""
    role = _role_of(kind)
    if request.method == "GET":
        return render_page("authority/person_form.html", role=role, role_name=ROLES[role], data=None, appointment=None)
    data = authority.parse_person_form(request.form, today=today())
    if not data.errors:
        try:
            authority.appoint(_institution(), role, data, current_user.actor())
        except authority.AuthorityError as error:
            data.errors["form"] = str(error)
    if data.errors:
        _deny(f"appointment_add:{role}", data.errors)
        return render_page("authority/person_form.html", status=400, role=role, role_name=ROLES[role],
                           data=data, appointment=None)
    flash(f"已新增{ROLES[role]} {data.name}。預設健保卡密碼為身分證字號後四碼加出生月日四碼，首次登入須變更。")
    return redirect(url_for(f".{kind}"), 303)


@bp.route("/<any(managers,users):kind>/<int:appointment_id>", methods=["GET", "POST"])
def edit_person(kind: str, appointment_id: int):
    """資料維護: change the period; identity stays as registered."""
    role = _role_of(kind)
    appointment = authority.find_appointment(_institution(), role, appointment_id) or abort(404)
    if request.method == "GET":
        return render_page("authority/person_form.html", role=role, role_name=ROLES[role], data=None,
                           appointment=appointment)
    data = authority.parse_person_form(request.form, today=today(), editing=True)
    if data.errors:
        _deny(f"appointment_update:{role}", data.errors)
        return render_page("authority/person_form.html", status=400, role=role, role_name=ROLES[role], data=data,
                           appointment=appointment)
    authority.update_period(appointment, data, current_user.actor(), today())
    flash(f"已更新 {appointment.person.name} 的生效期間。")
    return redirect(url_for(f".{kind}"), 303)


@bp.post("/<any(managers,users):kind>/<int:appointment_id>/remove")
def remove_person(kind: str, appointment_id: int):
    """刪除: the person can no longer log in here; open sessions end."""
    role = _role_of(kind)
    appointment = authority.find_appointment(_institution(), role, appointment_id) or abort(404)
    authority.remove(appointment, current_user.actor())
    flash(f"已移除{ROLES[role]} {appointment.person.name}，其登入中的工作階段已結束。")
    return redirect(url_for(f".{kind}"), 303)


def _role_of(kind: str) -> str:
    """The role a URL segment maintains, after checking the session may maintain it."""
    role = "manager" if kind == "managers" else "user"
    if not current_user.is_authenticated:
        abort(unauthorized())
    if not current_user.has(MAINTAINERS[role]):
        deny_access()
    return role


# --- 健保服務申請作業 ----------------------------------------------------------------------

@bp.route("/services", methods=["GET", "POST"])
@roles_required("manager")
def services():
    """Tick the services the institution applies for; unticking withdraws them."""
    institution = _institution()
    if request.method == "POST":
        added, withdrawn = authority.save_services(institution, request.form.getlist("service"), current_user.actor())
        flash(f"已儲存：新申請 {len(added)} 項、取消 {len(withdrawn)} 項。")
        return redirect(url_for(".services"), 303)
    return render_page("authority/services.html", catalogue=catalogue.services(),
                       applied=authority.applied_services(institution))


# --- 使用者授權管理作業 --------------------------------------------------------------------

@bp.route("/grants", methods=["GET", "POST"])
@roles_required("manager")
def grants():
    """Choose a user; tick 授權 per service (業務代號 / 業務別), a page at a time; 存檔."""
    institution = _institution()
    people = list(authority.appointments(institution, "user"))
    chosen = authority.find_appointment(institution, "user", request.values.get("user"))
    applied = [s for s in catalogue.services() if s.code in authority.applied_services(institution)]
    page = paginate_list(applied, request.values.get("page"), GRANTS_PER_PAGE)
    if request.method == "POST":
        if chosen is None:
            abort(404)
        on_page = {s.code for s in page.items}
        posted = set(request.form.getlist("grant"))
        wanted = (authority.grants(chosen) - on_page) | posted
        try:
            if posted - on_page:
                raise authority.AuthorityError("只能授權本頁列出的健保服務：" + "、".join(sorted(posted - on_page)))
            authority.save_grants(chosen, wanted, current_user.actor())
        except authority.AuthorityError as error:
            _deny("grants_save", {"form": str(error)})
            abort(400, str(error))
        flash(f"已儲存 {chosen.person.name} 的授權。")
        return redirect(url_for(".grants", user=chosen.id, page=page.number), 303)
    return render_page("authority/grants.html", people=people, chosen=chosen, page=page,
                       granted=authority.grants(chosen) if chosen else set())


# --- 雲端安全模組申請、下載 ------------------------------------------------------------------

@bp.get("/modules")
@roles_required("representative", "manager")
def module_list():
    """申請單號 / 申請日期 / 申請單狀態 / 審核日期 / 雲端安全模組編號, with download and revoke."""
    return render_page("authority/modules.html", rows=list(modules.of_institution(_institution())))


@bp.route("/modules/new", methods=["GET", "POST"])
@roles_required("representative", "manager")
def module_new():
    """Apply for a module; it is issued at the next full hour."""
    if request.method == "GET":
        return render_page("authority/module_form.html", data=None, now_roc=roc_date(utcnow()))
    data = modules.parse_application(request.form)
    if data.errors:
        _deny("module_apply", data.errors)
        return render_page("authority/module_form.html", status=400, data=data, now_roc=roc_date(utcnow()))
    row = modules.apply(_institution(), data, current_user.actor())
    flash(f"已送出申請（申請單號 {row.application_no}），系統將於整點核發，屆時狀態會變為「可下載」。")
    return redirect(url_for(".module_list"), 303)


@bp.get("/modules/<int:module_id>/download")
@roles_required("representative", "manager")
def module_download(module_id: int):
    """The module package (ZIP) — only this institution's issued modules."""
    row = modules.find(_institution(), module_id)
    if row is None or row.status != "issued" or row.package is None:
        abort(404)
    audit.record("module_download", current_user.actor(), detail={"module_no": row.module_no})
    return send_stored(row.package)


@bp.post("/modules/<int:module_id>/revoke")
@roles_required("representative", "manager")
def module_revoke(module_id: int):
    """Revoke a module; logins signed by it are refused from now on."""
    row = modules.find(_institution(), module_id)
    if row is None or row.status == "revoked":
        abort(404)
    modules.revoke(row, current_user.actor())
    flash(f"已撤銷雲端安全模組 {row.module_no or row.application_no}。")
    return redirect(url_for(".module_list"), 303)


# --- 允入HIS廠商申請作業 ------------------------------------------------------------------

@bp.route("/his-vendors", methods=["GET", "POST"])
@roles_required("representative", "manager")
def his_vendor_list():
    """Vendors allowed now (with who and when), the form to allow one, and the revoked ones."""
    institution, data = _institution(), None
    if request.method == "POST":
        data = his_vendors.parse_vendor(request.form)
        if not data.errors:
            try:
                his_vendors.allow(institution, data, current_user.actor())
                flash(f"已允入 {data.vendor_name}。")
                return redirect(url_for(".his_vendor_list"), 303)
            except ValueError as error:
                data.errors["form"] = str(error)
        _deny("his_allow", data.errors)
    return render_page("authority/his_vendors.html", status=400 if data else 200, data=data,
                       current=list(his_vendors.current(institution)), history=list(his_vendors.history(institution)))


@bp.post("/his-vendors/<int:vendor_id>/revoke")
@roles_required("representative", "manager")
def his_vendor_revoke(vendor_id: int):
    """Stop a vendor's remote access."""
    row = his_vendors.revoke(_institution(), vendor_id, current_user.actor()) or abort(404)
    flash(f"已撤銷 {row.vendor_name} 的連線許可。")
    return redirect(url_for(".his_vendor_list"), 303)


# --- 稽核紀錄 ---------------------------------------------------------------------------

@bp.get("/audit")
@roles_required("representative", "manager")
def audit_log():
    """The institution's own audit log, filtered by date, person and action."""
    filters, errors = _audit_filters()
    page = paginate(audit.search(_institution().id, **filters), request.args.get("page"), AUDIT_PER_PAGE)
    return render_page("authority/audit.html", fragment="authority/_audit_rows.html", page=page, errors=errors,
                       people=_audit_people(), actions=audit.ACTIONS, results=audit.RESULTS, args=request.args)


@bp.get("/audit.csv")
@roles_required("representative", "manager")
def audit_csv():
    """The same filtered log as CSV (UTF-8 with BOM, opens in Excel)."""
    filters, errors = _audit_filters()
    if errors:
        abort(400, " ".join(errors))
    audit.record("audit_export", current_user.actor(), detail={k: str(v) for k, v in filters.items() if v})
    body = audit.to_csv(audit.search(_institution().id, **filters).limit(50000))
    name = f"audit_{_institution().code}.csv"
    return current_app.response_class(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store"})


def _audit_filters() -> tuple[dict, list[str]]:
    """Date range (ROC or AD), person and action from the query string, with zh-TW errors."""
    filters, errors = {"person_id": None, "action": ""}, []
    for key, label in (("date_from", "日期起"), ("date_to", "日期迄")):
        raw = request.args.get(key, "").strip()
        try:
            filters[key] = parse_date(raw) if raw else None
        except DateInputError as error:
            errors.append(f"{label}：{error}")
            filters[key] = None
    person = request.args.get("person", "")
    if person.isascii() and person.isdigit():
        filters["person_id"] = int(request.args["person"])
    if request.args.get("action") in audit.ACTIONS:
        filters["action"] = request.args["action"]
    return filters, errors


def _audit_people():
    """People of this institution, for the audit filter."""
    rows = {a.person_id: a.person for role in ("manager", "user")
            for a in authority.appointments(_institution(), role)}
    return sorted(rows.values(), key=lambda p: p.name)


def _deny(what: str, errors: dict) -> None:
    """Refused or invalid input goes to the audit log too (nothing was changed)."""
    audit.record(what.split(":")[0], current_user.actor(), result="denied",
                 detail={"what": what, "errors": errors})

