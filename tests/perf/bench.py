"""Throughput benchmark (DESIGN.md §7): `python -m tests.perf.bench` from the repository root.

Builds a throwaway demo instance, serves tests.perf.benchapp:app with gunicorn
(2 sync workers) on loopback, and measures a hello-world route and list pages
with wrk in the same run; then 我的首頁 (layer 1, SPEC H2) for a logged-in
王大明, whose session cookie wrk sends. Machines are noisy, so only ratios to
hello-world count. It prints figures and exits 0; exit 1 only if something
could not run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELLO = "/__hello"
PAGES = ["/", "/announcements/business"]
MEMBER_PAGES = ["/home"]
# The demo's 臺北虛擬診所 and its manager 王大明 (portal/data/demo/authority.toml).
MEMBER_INSTITUTION, MEMBER_ID = "3501200000", "A123456789"
TARGET_RATIO = 0.40
WORKERS = 2
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class BenchError(RuntimeError):
    """A part of the benchmark could not run."""


def settings_for(base: Path) -> dict:
    """Portal settings that keep every file of the instance under `base`."""
    return {
        "DATABASE_URL": f"sqlite:///{base / 'portal.db'}",
        "STORAGE_DIR": str(base / "storage"),
        "INSTANCE_DIR": str(base / "instance"),
        "REDIS_URL": f"unix://{base / 'no-redis.sock'}",  # nothing listens: enqueues go to the outbox
        "SECRET_KEY": "bench-secret",
    }


def seed(settings: dict) -> str:
    """Migrate the throwaway database and load the demo content; returns 王大明's session token."""
    from portal import create_app, demo, schema
    from portal.db import database
    from portal.storage import storage_for

    app = create_app(settings)
    database.initialize(app.extensions["database"])
    with database.connection_context():
        schema.migrate(database.obj)
        demo.load_all(storage_for(app.config))
        return member_session(app)


def member_session(app) -> str:
    """A logged-in session as a card login leaves it (the cookie's token)."""
    from portal.logic import sessions
    from portal.models import Institution, Person

    institution = Institution.get(Institution.code == MEMBER_INSTITUTION)
    person = Person.get(Person.national_id == MEMBER_ID)
    token, _ = sessions.start(app.config, institution=institution, person=person, card_type="medical-staff")
    return token


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(settings: dict, port: int, log: Path) -> subprocess.Popen:
    """Start gunicorn on the benchmark app and wait until it answers."""
    env = {**os.environ, **{f"PORTAL_{k}": v for k, v in settings.items()}}
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", "--no-control-socket", "tests.perf.benchapp:app"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{HELLO}", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise BenchError(f"gunicorn did not answer within 30 s:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    """Stop gunicorn gracefully, or kill it after 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def check_pages(port: int, paths: list[str], cookie: str = "") -> None:
    """Every measured path must answer 200 (not a redirect to login), or its figures would mean nothing."""
    for path in [HELLO, *paths]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie} if cookie else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                if response.geturl() != request.full_url:
                    raise BenchError(f"GET {path} was redirected to {response.geturl()}")
        except OSError as error:
            raise BenchError(f"GET {path} failed: {error}") from None


def as_a_browser(port: int, path: str, cookie: str) -> str:
    """The cookie header a browser sends after its first visit: ours plus what the page set.

    The page's forms set Flask's session cookie (it holds the CSRF secret); a browser
    sends it back, so the server reads it instead of minting and signing a new one
    on every request, as it would for a client that drops cookies.
    """
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
        jar = dict(c.split(";", 1)[0].split("=", 1) for c in response.headers.get_all("Set-Cookie") or [])
    jar.update(dict(c.split("=", 1) for c in cookie.split("; ")))
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def wrk(url: str, connections: int, duration: int, cookie: str = "") -> dict:
    """Run wrk against one URL; req/s, p50/p99 in ms and the error count."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"wrk could not run: {error}") from None
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode != 0 or rps is None:
        raise BenchError(f"wrk failed ({done.returncode}):\n{out}{done.stderr}")
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return {"rps": float(rps.group(1)), "p50": latency(out, "50%"), "p99": latency(out, "99%"), "errors": errors}


def latency(out: str, percentile: str) -> float:
    """One line of wrk's latency distribution, in milliseconds."""
    found = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    return float(found.group(1)) * UNITS[found.group(2)] if found else float("nan")


def report(label: str, rounds: list[dict], connections: int, duration: int) -> None:
    """Print req/s, latencies and the ratio of each page to hello-world, per round and the median.

    Each round measures hello-world right before the pages, so a slow spell of a
    shared machine moves both figures of a ratio; the verdict is the median ratio.
    """
    print(f"\n{label}: wrk -t2 -c{connections} -d{duration}s, gunicorn {WORKERS} sync workers, "
          f"{len(rounds)} round(s), target ratio >= {TARGET_RATIO:.2f}")
    print(f"{'path':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'ratio':>8}  target (ratio per round)")
    for path in rounds[0]:
        ratios = [r[path]["rps"] / r[HELLO]["rps"] if r[HELLO]["rps"] else 0.0 for r in rounds]
        ratio = statistics.median(ratios)
        verdict = "baseline" if path == HELLO else ("met" if ratio >= TARGET_RATIO else "MISSED")
        rps, p50, p99 = (statistics.median(r[path][k] for r in rounds) for k in ("rps", "p50", "p99"))
        errors = sum(r[path]["errors"] for r in rounds)
        each = "" if path == HELLO else " (" + ", ".join(f"{x:.2f}" for x in ratios) + ")"
        print(f"{path:<26}{rps:>9.0f}{p50:>9.2f}{p99:>9.2f}{errors:>8}{ratio:>8.2f}  {verdict}{each}")


def measure(settings: dict, base: Path, connections: int, duration: int, paths: list[str] = PAGES,
            cookie: str = "", rounds: int = 1) -> list[dict]:
    """Serve the instance with these settings and run wrk on every path (hello-world without the cookie),
    hello-world first in each round."""
    port = free_port()
    proc = start_gunicorn(settings, port, base / "gunicorn.log")
    try:
        check_pages(port, paths, cookie)
        if cookie:
            cookie = as_a_browser(port, paths[0], cookie)
        for path in [HELLO, *paths]:  # warm up both workers: templates, SQLite page cache
            wrk(f"http://127.0.0.1:{port}{path}", connections, 2, cookie)
        return [{path: wrk(f"http://127.0.0.1:{port}{path}", connections, duration, cookie if path != HELLO else "")
                 for path in [HELLO, *paths]} for _ in range(rounds)]
    finally:
        stop(proc)


def main(argv: list[str] | None = None) -> int:
    """Build the instance, measure with the page cache (what visitors get) and without it, clean up."""
    parser = argparse.ArgumentParser(prog="python -m tests.perf.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=10, help="open connections (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each page, hello-world first "
                        "in each; the median ratio decides (default 3)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    base = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        settings = settings_for(base)
        token = seed(settings)
        passes = [("public pages as served (page cache on)", settings),
                  ("every request rendered (PAGE_CACHE_SECONDS=0; the cost of a miss)",
                   {**settings, "PAGE_CACHE_SECONDS": "0"})]
        for label, pass_settings in passes:
            report(label, measure(pass_settings, base, args.connections, args.duration, rounds=args.rounds),
                   args.connections, args.duration)
        report("我的首頁 logged in (王大明's cookies as his browser holds them)",
               measure(settings, base, args.connections, args.duration, MEMBER_PAGES, f"portal_session={token}",
                       rounds=args.rounds),
               args.connections, args.duration)
        return 0
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
