"""`python -m portal.cardagent [--config FILE] [--port N]`: run the card agent until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from portal.cardagent import __version__
from portal.cardagent.backend import make_backend
from portal.cardagent.config import ConfigError, load_config
from portal.cardagent.server import AgentServer


def main(argv=None) -> None:
    """Load settings, pick the backend, serve on 127.0.0.1."""
    parser = argparse.ArgumentParser(prog="python -m portal.cardagent", description="讀卡元件 (card agent)")
    parser.add_argument("--config", help="a TOML file whose keys override portal/cardagent/config.toml")
    parser.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (overrides PORT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config, {"PORT": args.port} if args.port is not None else None)
        backend = make_backend(config)
    except ConfigError as exc:
        sys.exit(f"設定錯誤：{exc}")
    except ImportError as exc:
        sys.exit(f"BACKEND = \"pcsc\" 需要 pyscard（pip install pyscard==2.3.1）：{exc}")
    try:
        server = AgentServer(config, backend)
    except OSError as exc:
        sys.exit(f"無法使用 127.0.0.1:{config['PORT']}：{exc}")
    # SIGTERM stops like Ctrl-C, so server_close() runs either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"讀卡元件 {__version__}（{config['BACKEND']}）: http://127.0.0.1:{server.port}/v1/status", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
