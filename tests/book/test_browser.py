"""Open every chapter of the built book in headless Chromium, as a reader would.

The pages are served from the build folder on the loopback interface; the
server records every request Chromium makes. A page passes when Chromium
fetched every figure on it (HTTP 200, a real PNG/SVG), no request of the page
failed, and every internal link in the rendered DOM points to a page, and an
anchor, that exists.

Chromium comes from Debian's ``chromium`` package (``make test`` installs it
when it is missing and the machine allows it).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from conftest import toc_files

pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,30000", "--virtual-time-budget=10000", "--dump-dom"]


class _Recorder(SimpleHTTPRequestHandler):
    log: list[tuple[str, int]]

    def log_request(self, code="-", size="-"):  # noqa: D401 - record, do not print
        self.log.append((unquote(urlparse(self.path).path), int(code) if str(code).isdigit() else 0))

    def log_message(self, *args):
        pass


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "img" and a.get("src"):
            self.imgs.append(a["src"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


@pytest.fixture(scope="module")
def server(built):
    html, _ = built
    log: list[tuple[str, int]] = []
    handler = functools.partial(type("H", (_Recorder,), {"log": log}), directory=str(html))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", html, log
    httpd.shutdown()


def _ids(path: Path) -> set[str]:
    p = _Dom()
    p.feed(path.read_text(errors="replace"))
    return p.ids


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")
def test_pages_render_with_figures_and_working_links(server, tmp_path):
    base, html, log = server
    for f in toc_files():
        url = f"{base}/{f}.html"
        log.clear()
        proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", url],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"chromium failed on {f}: {proc.stderr[-2000:]}"
        dom = _Dom()
        dom.feed(proc.stdout)
        assert dom.ids, f"{f}: Chromium returned no DOM"
        served = dict(log)
        # /favicon.ico is Chromium's own guess, not a request of the page
        failed = [(p, c) for p, c in log if c >= 400 and p != "/favicon.ico"]
        assert not failed, f"{f}: requests failed while rendering: {failed[:5]}"
        for src in dom.imgs:
            target = urlparse(urljoin(url, src))
            if target.netloc != urlparse(base).netloc:
                continue  # the book embeds no external images; a badge would not be a figure
            path = unquote(target.path)
            assert served.get(path) == 200, f"{f}: figure {src} was not loaded by the browser"
            data = (html / path.lstrip("/")).read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" or b"<svg" in data[:500], f"{f}: {src} is not an image"
        for href in dom.links:
            target = urlparse(urljoin(url, href))
            if target.scheme not in ("http", "") or target.netloc not in ("", urlparse(base).netloc):
                continue  # external links (doi.org, ...) are not checked offline
            page = html / unquote(target.path).lstrip("/")
            if page.is_dir():
                page = page / "index.html"
            assert page.exists(), f"{f}: broken internal link {href}"
            if target.fragment and page.suffix == ".html":
                assert target.fragment in _ids(page), f"{f}: link {href} points to a missing anchor"
