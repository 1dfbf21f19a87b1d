"""One blueprint per area of the site."""

from portal.subsystems.authority import views as authority
from portal.subsystems.claims_precheck import views as claims_precheck
from portal.subsystems.ic_upload import api as his_api
from portal.subsystems.ic_upload import indicators as ic_indicators
from portal.subsystems.ic_upload import views as ic_upload
from portal.views import (
    announcements,
    auth,
    contacts,
    downloads,
    feeds,
    guide,
    home,
    institution_files,
    links,
    member_contacts,
    news,
    payments,
    policies,
    public,
    services,
    sitemap,
)

BLUEPRINT_MODULES = (public, announcements, downloads, contacts, links, sitemap, guide, policies, feeds, auth, home,
                     news, services, member_contacts, authority, institution_files, payments, claims_precheck, ic_upload, ic_indicators,
                     his_api)


def register_blueprints(app) -> None:
    """Attach every area's blueprint to the app."""
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(module.bp)
