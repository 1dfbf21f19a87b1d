"""The run command: everything starts, the portal answers, Ctrl-C stops every process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port, need

pytestmark = pytest.mark.redis


def _stat(pid: int) -> list[str] | None:
    """State and parent of a process from /proc (fields after the command name), or None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> set[int]:
    """Every descendant process of pid."""
    found, frontier = set(), {pid}
    while frontier:
        parent = frontier.pop()
        for entry in filter(str.isdigit, os.listdir("/proc")):
            stat = _stat(int(entry))
            if stat and int(stat[1]) == parent and int(entry) not in found:
                found.add(int(entry))
                frontier.add(int(entry))
    return found


def test_launcher_serves_the_portal_and_stops_everything_on_ctrl_c(tmp_path):
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    port = _free_port()
    instance = tmp_path / "instance"
    env = dict(os.environ, PORTAL_INSTANCE_DIR=str(instance), PORTAL_DATABASE_URL=f"sqlite:///{instance}/portal.db",
               PORTAL_STORAGE_DIR=str(instance / "storage"), PORTAL_REDIS_URL=f"unix://{instance}/redis/redis.sock",
               PORTAL_HTTP_PORT=str(port), PORTAL_HTTP_WORKERS="1", PYTHONUNBUFFERED="1")
    launcher = subprocess.Popen([sys.executable, "-m", "portal.launch", "--no-demo"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            output.append(line)
            if "已啟動" in line or launcher.poll() is not None:
                break
        assert f"http://127.0.0.1:{port}/" in "".join(output), "".join(output)
        processes = _children(launcher.pid)
        assert len(processes) >= 4, "redis, worker, scheduler and gunicorn should run"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            assert response.status == 200 and "健保資訊網服務系統" in response.read().decode()
        launcher.send_signal(signal.SIGINT)
        rest, _ = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 0, "".join(output) + rest
    assert "已全部結束" in rest
    alive = [pid for pid in processes if (_stat(pid) or ["Z"])[0] != "Z"]
    assert not alive, f"still running after Ctrl-C: {alive}"
    assert (instance / "portal.db").exists(), "the migrations created the database under the instance folder"
    assert (instance / "redis" / "appendonlydir").exists(), "Redis keeps its data (and queued jobs) there"
