"""`python -m portal.cardagent`: starts on 127.0.0.1, serves, stops on SIGTERM; imports no Flask."""

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request

from tests.cardagent.helpers import PORTAL
from tests.conftest import ROOT, need


def test_agent_modules_import_nothing_of_the_portals_flask_code():
    # portal/__init__.py itself imports Flask (not ours to change): a stub stands in for the parent package.
    code = textwrap.dedent(f"""
        import sys, types
        stub = types.ModuleType("portal"); stub.__path__ = [{str(ROOT / "portal")!r}]
        sys.modules["portal"] = stub
        import portal.cardagent.__main__, portal.cardagent.soft, portal.cardagent.server
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "werkzeug", "jinja2", "peewee", "smartcard")
                     or (m.startswith("portal.") and not m.startswith("portal.cardagent")))
        print(bad)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_command_line_serves_until_sigterm(tmp_path, soft_dirs):
    cards, module = soft_dirs
    config = tmp_path / "agent.toml"
    config.write_text(f'ALLOWED_ORIGINS = ["{PORTAL}"]\nSOFT_CARDS_DIR = "{cards}"\nCLOUD_MODULE = "{module}"\n')
    process = subprocess.Popen([sys.executable, "-m", "portal.cardagent", "--config", str(config), "--port", "0"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("讀卡元件 "), line + process.stderr.read()
        url = line.split(": ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1/status")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "就緒" in response.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


def test_bad_settings_stop_the_command_with_a_message(tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text('BACKEND = "pkcs11"\n')
    result = subprocess.run([sys.executable, "-m", "portal.cardagent", "--config", str(config)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "設定錯誤" in result.stderr and "BACKEND" in result.stderr


def test_pcsc_backend_without_pcscd_reports_no_reader(tmp_path):
    need(importlib.util.find_spec("smartcard") is not None, "pyscard is not installed (pip install pyscard==2.3.1)")
    # A fresh process: libpcsclite reads PCSCLITE_CSOCK_NAME once, and this one leads nowhere.
    code = textwrap.dedent("""
        from portal.cardagent.pcsc import PcscBackend
        from portal.cardagent.backend import AgentError
        backend = PcscBackend([{"match": "Virtual PCD 00 00", "type": "nhi-reader"}], "/nonexistent")
        print(backend.status().state)
        try:
            backend.open_card("nhi-reader", "medical-staff")
        except AgentError as exc:
            print(exc.code)
    """)
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["no_reader", "reader_missing"]
