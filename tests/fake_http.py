"""A local JSON endpoint for tests of HTTP clients (OpenAI-compatible judges, moderation): `serve(handle)` answers
every POST with `handle(request) -> (status, headers, payload)`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handle = Callable[[BaseHTTPRequestHandler], tuple[int, dict, dict]]


def serve(handle: Handle) -> tuple[ThreadingHTTPServer, str]:
    """Start a server on 127.0.0.1 in a daemon thread; returns it (shut it down when done) and its `/v1` URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            status, headers, payload = handle(self)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out and went away
                pass

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.block_on_close = False
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/v1"


def read_body(handler: BaseHTTPRequestHandler) -> dict:
    return json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))


def chat_completion(n: int, model: str, text: str) -> dict:
    """An OpenAI chat-completions response body holding `text`."""
    return {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}}


class Servers:
    """Servers started by a test (`start(handle) -> url`), all shut down by `close()`."""

    def __init__(self) -> None:
        self.started: list[ThreadingHTTPServer] = []

    def start(self, handle: Handle) -> str:
        srv, url = serve(handle)
        self.started.append(srv)
        return url

    def close(self) -> None:
        for srv in self.started:
            srv.shutdown()
            srv.server_close()
