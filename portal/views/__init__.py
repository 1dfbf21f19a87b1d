"""One blueprint per area of the site."""

from portal.views import (
    announcements,
    auth,
    contacts,
    downloads,
    feeds,
    guide,
    links,
    policies,
    public,
    sitemap,
)

BLUEPRINT_MODULES = (public, announcements, downloads, contacts, links, sitemap, guide, policies, feeds, auth)


def register_blueprints(app) -> None:
    """Attach every area's blueprint to the app."""
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(module.bp)
