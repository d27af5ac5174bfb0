"""`compare --out` writes index.html: the report's tables and its plot, readable offline."""

from __future__ import annotations

import base64
import re

import pytest

from predictor_nas.cli import main
from predictor_nas.compare._html import html_report, write_html_report
from predictor_nas.exceptions import InvalidParameterError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_compare_out_writes_a_self_contained_index_html(tmp_path, capsys):
    """A tiny compare's index.html embeds regret.png as base64 and tables every strategy."""
    out = tmp_path / "cmp"
    argv = ["compare", "--strategies", "random,rea", "--budget", "5", "--seeds", "0-1"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    assert f"wrote {out / 'index.html'}" in capsys.readouterr().out
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<img alt="validation regret vs queries" src="data:image/png;base64,' in page
    embedded = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)[1]
    assert base64.b64decode(embedded) == (out / "regret.png").read_bytes()
    assert base64.b64decode(embedded)[:8] == PNG_MAGIC
    # one table for the one dataset, one row per strategy, names as in compare.md
    assert page.count("<table>") == 1
    assert "<td><code>random</code></td>" in page and "<td><code>rea</code></td>" in page
    assert "<h2" in page and ">cifar10</h2>" in page
    # nothing to fetch: no remote or relative resource
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "<script" not in page and "<link" not in page


def test_html_report_escapes_text_and_marks_missing_images(tmp_path):
    """Markdown text is escaped, tables keep their cells, a missing image is shown as missing."""
    md = "\n".join(
        [
            "# Report <b>x</b>",
            "",
            "Some **bold `code`** and <script>alert(1)</script> text.",
            "",
            "| strategy | regret |",
            "|---|---:|",
            "| `a\\|b` | 0.125 [0.1, 0.2] |",
            "",
            "![plot](nope.png)",
            "",
            "- one",
            "  continued",
            "- two",
        ]
    )
    page = html_report(md, base_dir=tmp_path)
    assert "<title>Report &lt;b&gt;x&lt;/b&gt;</title>" in page
    assert "<strong>bold <code>code</code></strong>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert '<td><code>a|b</code></td><td class="num">0.125 [0.1, 0.2]</td>' in page
    assert "image file missing (nope.png)" in page
    assert "<li>one continued</li>" in page and "<li>two</li>" in page


def test_write_html_report_refuses_a_missing_markdown_file(tmp_path):
    """A Markdown path that does not exist is refused with the standard message."""
    with pytest.raises(InvalidParameterError, match="'markdown_path' parameter of write_html"):
        write_html_report(tmp_path / "nope.md")
