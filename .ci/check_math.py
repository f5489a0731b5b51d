"""Open every page of the built site in headless Chromium and check that each formula rendered.

Usage: ``python .ci/check_math.py SITE_DIR``. Serves the site on 127.0.0.1, asks Chromium for
the DOM after its scripts ran, and fails when a page has an ``arithmatex`` element that KaTeX did
not turn into a formula, or a KaTeX error. Skips (exit 0, with a message) without Chromium.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main(site: Path) -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("check_math: no chromium on this machine, formulas not checked in a browser")
        return 0
    pages = [p for p in sorted(site.rglob("index.html")) if "arithmatex" in p.read_text()]
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failures = []
    with tempfile.TemporaryDirectory() as profile:
        for page in pages:
            url = f"http://127.0.0.1:{server.server_port}/{page.parent.relative_to(site)}/"
            dom = subprocess.run(
                [browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            ).stdout
            wanted = len(re.findall(r'class="arithmatex"', dom))
            rendered = len(re.findall(r'class="katex"', dom))
            errors = len(re.findall(r"katex-error", dom))
            if rendered != wanted or errors:
                failures.append(f"{url}: {wanted} formulas, {rendered} rendered, {errors} errors")
    server.shutdown()
    print(f"check_math: {len(pages)} pages with formulas checked in {Path(browser).name}")
    for failure in failures:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
