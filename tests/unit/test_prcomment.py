"""The PR comment of a preview: one per stack (found by its marker), within GitHub's size limit."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from wso2k8s import prcomment

pytestmark = pytest.mark.unit


def test_the_comment_leads_with_the_conf_changes_and_folds_the_preview() -> None:
    text = prcomment.body("prod", "Resources:\n    2 to update\n", "--- deployed/x\n+++ proposed/x\n-a\n+b\n", True)
    assert text.startswith(prcomment.marker("prod")) and "`prod`: passed" in text
    assert text.index("#### Conf file changes") < text.index("<details><summary>preview output")
    assert "```diff\n--- deployed/x\n+++ proposed/x\n-a\n+b\n```" in text and "2 to update" in text


def test_a_failed_preview_says_so_and_a_huge_output_keeps_its_end_within_githubs_limit() -> None:
    preview = "noise\n" * 50000 + "error: wso2-kubernetes:workload.replicaz (Pulumi.prod.yaml): unknown key\n"
    text = prcomment.body("prod", preview, "", False)
    assert "`prod`: **failed**" in text and "unknown key" in text and "(start cut)" in text
    assert len(text) < 65536
    assert "#### Conf file changes" not in text  # nothing was rendered: no section claiming "none"


def test_markers_differ_per_stack() -> None:
    assert prcomment.marker("staging") != prcomment.marker("prod")
    assert not prcomment.body("prod", "", "", True).startswith(prcomment.marker("staging"))


class _Comments(http.server.BaseHTTPRequestHandler):
    """Just enough of GitHub's issue-comments API: list, create, update; token 't'."""

    store: ClassVar[dict[int, str]] = {}
    calls: ClassVar[list[str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, code: int, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def authorised(self) -> bool:
        if self.headers["Authorization"] == "Bearer t":
            return True
        self.reply(401, {"message": "Bad credentials"})
        return False

    def do_GET(self) -> None:
        if not self.authorised():
            return
        self.calls.append("GET")
        page = parse_qs(urlsplit(self.path).query)["page"][0]
        self.reply(200, [{"id": i, "body": b} for i, b in self.store.items()] if page == "1" else [])

    def do_POST(self) -> None:
        if not self.authorised():
            return
        self.calls.append("POST")
        self.store[len(self.store) + 1] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["body"]
        self.reply(201, {"id": len(self.store)})

    def do_PATCH(self) -> None:
        if not self.authorised():
            return
        self.calls.append("PATCH")
        self.store[int(self.path.rsplit("/", 1)[1])] = json.loads(
            self.rfile.read(int(self.headers["Content-Length"])))["body"]
        self.reply(200, {})


def test_one_comment_per_stack_is_posted_then_updated() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Comments)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Comments.store.clear()
        _Comments.store[1] = "someone else's comment"
        github = prcomment.GitHub(f"http://127.0.0.1:{server.server_address[1]}", "o/r", "t")
        assert github.upsert(7, "prod", prcomment.body("prod", "one", "", True)) == "posted comment 2"
        assert github.upsert(7, "prod", prcomment.body("prod", "two", "", False)) == "updated comment 2"
        assert github.upsert(7, "staging", prcomment.body("staging", "s", "", True)) == "posted comment 3"
        assert "two" in _Comments.store[2] and "**failed**" in _Comments.store[2]
        assert _Comments.store[1] == "someone else's comment"
        with pytest.raises(urllib.error.HTTPError, match="401"):
            prcomment.GitHub(github.api, "o/r", "wrong").upsert(8, "x", "body")
    finally:
        server.shutdown()


def test_a_refused_comment_is_a_warning_not_a_failed_job(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Comments)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for k, v in {"GITHUB_API_URL": f"http://127.0.0.1:{server.server_address[1]}", "GITHUB_REPOSITORY": "o/r",
                     "PR_NUMBER": "9", "GH_TOKEN": "read-only"}.items():
            monkeypatch.setenv(k, v)
        (tmp_path / "p.txt").write_text("Resources: 1 to update")
        assert prcomment.main(["prod", str(tmp_path / "p.txt"), str(tmp_path / "none.md"), "passed"]) == 0
        assert "::warning::could not post the preview comment: HTTP Error 401" in capsys.readouterr().out
        assert prcomment.main(["prod", "x", "y", "maybe"]) == 2
    finally:
        server.shutdown()
