"""The PR comment of a preview: one per stack (found by its marker), within GitHub's size limit."""

from __future__ import annotations

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
