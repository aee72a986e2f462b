"""The pull-request comment of a stack's preview: the `pulumi preview` output and the conf-file diffs, posted
once per stack and updated on the next run (found by a marker), through GitHub's REST API.

    python -m wso2k8s.prcomment <stack> <preview output file> <conf diff file> <passed|failed>

Environment (what a GitHub Actions runner provides): GITHUB_API_URL, GITHUB_REPOSITORY, PR_NUMBER, GH_TOKEN.
Both texts are already safe to show: Pulumi prints secrets as [secret], the conf diffs mask them.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

LIMIT = 60000  # GitHub refuses comment bodies over 65536 characters; room for the rest of the body


def marker(stack: str) -> str:
    return f"<!-- wso2-kubernetes preview: {stack} -->"


def body(stack: str, preview: str, confdiff: str, passed: bool) -> str:
    """The comment: a headline, the conf-file changes (the part a reviewer reads), the preview output folded."""
    if len(preview) > LIMIT // 2:  # the end says what failed and the summary
        preview = "… (start cut)\n" + preview[-(LIMIT // 2):]
    if len(confdiff) > LIMIT // 2:
        confdiff = confdiff[:LIMIT // 2] + "\n… (cut: see the job's summary)"
    changes = (f"#### Conf file changes\n```diff\n{confdiff.rstrip()}\n```" if confdiff.strip()
               else "#### Conf file changes\nnone" if passed else "")
    return "\n".join([marker(stack),
                      f"### `pulumi preview` of `{stack}`: {'passed' if passed else '**failed**'}",
                      changes,
                      "<details><summary>preview output</summary>\n",
                      f"```text\n{preview.rstrip()}\n```", "</details>"])


class GitHub:
    def __init__(self, api: str, repository: str, token: str) -> None:
        self.api, self.repository, self.token = api.rstrip("/"), repository, token

    def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.api}{path}", method=method, data=None if data is None else json.dumps(data).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def upsert(self, pr: int, stack: str, text: str) -> str:
        """Update this stack's earlier comment, or post one. Says which it did."""
        page = 1
        while comments := self.call("GET", f"/repos/{self.repository}/issues/{pr}/comments?per_page=100&page={page}"):
            for c in comments:
                if str(c.get("body", "")).startswith(marker(stack)):
                    self.call("PATCH", f"/repos/{self.repository}/issues/comments/{c['id']}", {"body": text})
                    return f"updated comment {c['id']}"
            page += 1
        made = self.call("POST", f"/repos/{self.repository}/issues/{pr}/comments", {"body": text})
        return f"posted comment {made['id']}"


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[3] not in ("passed", "failed"):
        print(__doc__, file=sys.stderr)
        return 2
    stack, preview_file, confdiff_file, outcome = argv
    preview = Path(preview_file).read_text(errors="replace") if Path(preview_file).is_file() else "(no output)"
    confdiff = Path(confdiff_file).read_text(errors="replace") if Path(confdiff_file).is_file() else ""
    env = os.environ
    missing = [k for k in ("GITHUB_API_URL", "GITHUB_REPOSITORY", "PR_NUMBER", "GH_TOKEN") if not env.get(k)]
    if missing:
        print(f"prcomment: {', '.join(missing)} not set (the workflow step sets them)", file=sys.stderr)
        return 2
    github = GitHub(env["GITHUB_API_URL"], env["GITHUB_REPOSITORY"], env["GH_TOKEN"])
    text = body(stack, preview, confdiff, outcome == "passed")
    try:
        print(f"prcomment: {github.upsert(int(env['PR_NUMBER']), stack, text)}")
    except OSError as err:  # a fork's read-only token, say: the preview's verdict stands, the comment is a view
        print(f"::warning::could not post the preview comment: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
