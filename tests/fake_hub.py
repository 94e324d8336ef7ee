"""A Hugging Face hub on loopback serving one local checkpoint directory, for download tests.

It answers the calls ``snapshot_download`` and ``from_pretrained`` make (``HF_ENDPOINT``
pointed here): the revision info, the recursive file tree, and ``/resolve/`` with the headers
the client reads (commit, ETag, size), sending each file in small pieces with a pause between
them so that a test can watch the bytes arrive. Standard library only; it stops with the test.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repo_id: str, folder: Path, *, piece_bytes: int = 256 * 1024, pause: float = 0.05):
        self.repo_id = repo_id
        self.files = {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}
        self.piece_bytes = piece_bytes
        self.pause = pause
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

            def do_HEAD(self) -> None:  # noqa: N802 - the http.server naming
                hub._answer(self, body=False)

            def do_GET(self) -> None:  # noqa: N802
                hub._answer(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _blob_id(data: bytes) -> str:
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    def _answer(self, handler: BaseHTTPRequestHandler, *, body: bool) -> None:
        path = unquote(urlparse(handler.path).path)
        self.requests.append(f"{handler.command} {path}")
        api = f"/api/models/{self.repo_id}/"
        if path.startswith(api + "revision/"):
            siblings = [{"rfilename": name} for name in self.files]
            self._json(handler, {"id": self.repo_id, "modelId": self.repo_id, "sha": COMMIT, "siblings": siblings},
                       body)
        elif path.startswith(api + "tree/"):
            tree = [{"type": "file", "path": name, "size": len(data), "oid": self._blob_id(data)}
                    for name, data in self.files.items()]
            self._json(handler, tree, body)
        elif path.startswith(f"/{self.repo_id}/resolve/"):
            name = path.split("/resolve/", 1)[1].split("/", 1)[1]
            data = self.files.get(name)
            if data is None:
                self._missing(handler)
                return
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("ETag", f'"{self._blob_id(data)}"')
            handler.send_header("X-Repo-Commit", COMMIT)
            handler.end_headers()
            if body:
                for start in range(0, len(data), self.piece_bytes):
                    handler.wfile.write(data[start:start + self.piece_bytes])
                    handler.wfile.flush()
                    time.sleep(self.pause)
        else:
            self._missing(handler)

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, document: object, body: bool) -> None:
        data = json.dumps(document).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if body:
            handler.wfile.write(data)

    @staticmethod
    def _missing(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(404)
        handler.send_header("X-Error-Code", "EntryNotFound")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
