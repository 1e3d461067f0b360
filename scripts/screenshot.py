"""Take screenshots of Odoo pages as a logged-in user, with headless Chromium.

    .venv/bin/python scripts/screenshot.py --url http://localhost:8069 --db lmc_demo \
        --page "/odoo/action-stock.action_production_lot_form" --out /tmp/lots.png [--width 1400 --height 900]

Used by developers to look at the screens they build (see README, "Looking at the screens").
"""

import argparse
import base64
import json
import socket
import subprocess
import tempfile
import time
import urllib.request

import requests
import websocket


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _session_id(url, db, login, password):
    response = requests.post(
        f"{url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": db, "login": login, "password": password}},
        timeout=60,
    )
    response.raise_for_status()
    if response.json().get("error"):
        raise SystemExit(f"login failed: {response.json()['error']['data']['message']}")
    return response.cookies["session_id"]


class Browser:
    def __init__(self, width, height):
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="lmc-chromium-")
        self.process = subprocess.Popen(
            [
                "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--window-size={width},{height}",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json") as answer:
                    target = next(t for t in json.load(answer) if t["type"] == "page")
                break
            except (OSError, StopIteration):  # Chromium is still starting
                time.sleep(0.1)
        self.socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def close(self):
        self.socket.close()
        self.process.terminate()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="lmc_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--page", action="append", required=True, help="path to open; repeat for several")
    parser.add_argument("--out", action="append", required=True, help="PNG file; one per --page")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--wait", type=float, default=4.0, help="seconds to let the page render")
    args = parser.parse_args()
    session = _session_id(args.url, args.db, args.login, args.password)
    browser = Browser(args.width, args.height)
    try:
        host = args.url.split("//", 1)[1].split(":")[0].split("/")[0]
        browser.call("Network.enable")
        browser.call("Network.setCookie", name="session_id", value=session, domain=host, path="/")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=args.width,
            height=args.height,
            deviceScaleFactor=1,
            mobile=args.width < 600,
        )
        for page, out in zip(args.page, args.out, strict=True):
            browser.call("Page.navigate", url=args.url + page)
            time.sleep(args.wait)
            shot = browser.call("Page.captureScreenshot", format="png")
            with open(out, "wb") as image:
                image.write(base64.b64decode(shot["data"]))
            print(out)
    finally:
        browser.close()


if __name__ == "__main__":
    main()
