"""``dco view --serve``: the same pages, rendered per request from the
database, so a refresh shows the theorems a running search has committed
since. It listens on 127.0.0.1 only and answers only the site's own paths
(the index, the plot, a page per theorem of the run); anything else is 404.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lean_env.errors import UserError

from .data import RunReader
from .pages import index_html
from .site import PLOT, page_name, pages_of, theorem_page, write_plot
from .summary import summarize
from .tree import MAX_NODES

HOST = "127.0.0.1"
REQUEST_TIMEOUT_S = 30  # a client that stops sending is dropped


def make_server(
    db: str | Path, run_id: int | None, port: int, max_nodes: int = MAX_NODES
) -> ThreadingHTTPServer:
    """A server for one run of ``db`` (checked now: a bad file fails before
    listening). ``port`` 0 picks a free one (``server.server_address``)."""
    with RunReader(db) as reader:
        run = reader.run(run_id).id  # None: the latest run now, fixed for the session

    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_S

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            self._answer(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            try:
                found = render(db, run, path, max_nodes)
            except UserError as exc:
                found = (
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8",
                    f"error: {exc}\n".encode(),
                )
            status, kind, body = found or (
                HTTPStatus.NOT_FOUND,
                "text/plain; charset=utf-8",
                b"not found\n",
            )
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet: the terminal shows the one "serving" line

    try:
        server = ThreadingHTTPServer((HOST, port), Handler)
    except OSError as exc:
        raise UserError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    server.run_id = run  # type: ignore[attr-defined]
    return server


def render(
    db: str | Path, run_id: int, path: str, max_nodes: int = MAX_NODES
) -> tuple[int, str, bytes] | None:
    """(status, content type, body) of one path of the site, None if it is not one."""
    html = "text/html; charset=utf-8"
    with RunReader(db) as reader:
        summary = summarize(reader, run_id)
        if path in ("/", "/index.html"):
            plot = PLOT if len(summary.passk) >= 2 else None
            return HTTPStatus.OK, html, index_html(summary, plot, pages_of(summary)).encode()
        if path == "/" + PLOT:
            buf = io.BytesIO()
            return (
                (HTTPStatus.OK, "image/png", buf.getvalue()) if write_plot(summary, buf) else None
            )
        for row in summary.theorems:
            if path == "/" + page_name(row["theorem"]):
                return HTTPStatus.OK, html, theorem_page(reader, summary, row, max_nodes).encode()
    return None


def serve(
    db: str | Path,
    run_id: int | None,
    port: int,
    say: Callable[[str], None],
    max_nodes: int = MAX_NODES,
) -> None:
    """Serve until Ctrl-C."""
    server = make_server(db, run_id, port, max_nodes)
    host, bound = server.server_address[:2]
    say(f"serving run {server.run_id} of {db} at http://{host}:{bound}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("stopped")
    finally:
        server.server_close()
