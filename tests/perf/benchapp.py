"""The app gunicorn serves for `make bench`: the portal plus a hello-world baseline route.

Settings come from the PORTAL_* environment variables tests/perf/bench.py sets.
`/__hello` is registered on the same app, so it passes through the same request
hooks (database bind, CSRF, security headers) as the pages it is compared with.
"""

from portal import create_app

app = create_app()


@app.get("/__hello")
def hello():
    """The fair hello-world baseline."""
    return "hello"
