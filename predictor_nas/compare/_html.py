"""A self-contained HTML page of a comparison report, readable offline.

``compare --out DIR`` writes ``compare.md`` (``markdown_report``) and, from it, ``index.html``:
the same headings, text and tables, with every image the Markdown references (the regret PNG)
embedded as a base64 ``data:`` URI, and a small inline style sheet. Nothing is loaded from the
network and no dependency is needed: the converter reads only the Markdown that
``markdown_report`` writes (headings, paragraphs, ``- `` lists, fenced code, pipe tables, images,
links, inline code and bold).
"""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

from predictor_nas._validation import param_error

#: Image types embedded as data URIs, by file suffix.
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 80rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.55rem; vertical-align: top; }
th { background: #f3f3f3; }
tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.88em; overflow-wrap: anywhere; }
pre { background: #f5f5f5; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
img { max-width: 100%; }
.missing { color: #a00; }
"""

_INLINE = re.compile(
    r"`(?P<code>[^`]+)`"
    r"|!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)"
    r"|\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\)"
    r"|\*\*(?P<bold>.+?)\*\*"
)
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_SEPARATOR_CELL = re.compile(r"^\s*:?-{3,}:?\s*$")
_NUMERIC = re.compile(r"^[-+<>≤]?\s*[\d.,]+")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _image(alt: str, src: str, base_dir: Path) -> str:
    """An <img> with the file at base_dir/src embedded, or a visible note if it is missing."""
    path = base_dir / src
    mime = IMAGE_TYPES.get(path.suffix.lower())
    if mime is None or not path.is_file():
        why = "not embedded: unknown image type" if mime is None else "image file missing"
        return f'<span class="missing">[{_esc(alt or src)}: {why} ({_esc(src)})]</span>'
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:{mime};base64,{data}">'


def _inline(text: str, base_dir: Path) -> str:
    """HTML of one line of Markdown text: escaped, with code, images, links and bold."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(_esc(text[pos : m.start()]))
        if m["code"] is not None:
            out.append(f"<code>{_esc(m['code'])}</code>")
        elif m["src"] is not None:
            out.append(_image(m["alt"], m["src"], base_dir))
        elif m["href"] is not None:
            out.append(f'<a href="{_esc(m["href"])}">{_inline(m["text"], base_dir)}</a>')
        else:
            out.append(f"<strong>{_inline(m['bold'], base_dir)}</strong>")
        pos = m.end()
    out.append(_esc(text[pos:]))
    return "".join(out)


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(inner)]


def _table(lines: list[str], base_dir: Path) -> list[str]:
    """A pipe table (header, separator, rows) as an HTML table; numbers right-aligned."""
    head = _cells(lines[0])
    has_sep = len(lines) > 1 and all(_SEPARATOR_CELL.match(c) for c in _cells(lines[1]) if c)
    body = lines[2:] if has_sep else lines[1:]
    out = ["<table>", "<thead><tr>"]
    out += [f"<th>{_inline(c, base_dir)}</th>" for c in head]
    out += ["</tr></thead>", "<tbody>"]
    for line in body:
        cells = _cells(line)
        tds = []
        for c in cells:
            cls = ' class="num"' if _NUMERIC.match(c) else ""
            tds.append(f"<td{cls}>{_inline(c, base_dir)}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    out += ["</tbody>", "</table>"]
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def html_report(markdown: str, *, base_dir: str | os.PathLike = ".") -> str:
    """A self-contained HTML page of a Markdown report.

    Args:
        markdown: Report text as written by ``markdown_report``.
        base_dir: Folder that relative image paths in the Markdown are read from.

    Returns:
        The HTML document (UTF-8 text); images are embedded as base64 data URIs.
    """
    if not isinstance(markdown, str):
        raise param_error("markdown", "html_report", "a str", type(markdown).__name__)
    base = Path(base_dir)
    lines = markdown.splitlines()
    body: list[str] = []
    title = "predictor-nas report"
    para: list[str] = []

    def flush() -> None:
        if para:
            body.append("<p>" + " ".join(_inline(p, base) for p in para) + "</p>")
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            body.append("<pre><code>" + _esc("\n".join(lines[i + 1 : j])) + "</code></pre>")
            i = j + 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if heading:
            flush()
            level, text = len(heading[1]), heading[2].strip()
            if level == 1 and title == "predictor-nas report":
                title = text.replace("`", "")
            body.append(f'<h{level} id="{_slug(text)}">{_inline(text, base)}</h{level}>')
        elif stripped.startswith("|"):
            flush()
            j = i
            while j < len(lines) and lines[j].strip().startswith("|"):
                j += 1
            body += _table(lines[i:j], base)
            i = j
            continue
        elif stripped.startswith(("- ", "* ")):
            flush()
            items: list[str] = []
            while i < len(lines) and lines[i].strip():
                s = lines[i].strip()
                if s.startswith(("- ", "* ")):
                    items.append(s[2:])
                elif items:  # a continuation line of the previous item
                    items[-1] += " " + s
                i += 1
            body += ["<ul>", *(f"<li>{_inline(t, base)}</li>" for t in items), "</ul>"]
            continue
        elif not stripped:
            flush()
        else:
            para.append(stripped)
        i += 1
    flush()
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def write_html_report(
    markdown_path: str | os.PathLike, html_path: str | os.PathLike | None = None
) -> str:
    """Write the HTML page of a Markdown report file, images taken from the report's folder.

    Args:
        markdown_path: The Markdown report (``compare.md``).
        html_path: Output file; default ``index.html`` beside the report. Written atomically.

    Returns:
        The path written.
    """
    if not isinstance(markdown_path, (str, os.PathLike)) or not Path(markdown_path).is_file():
        raise param_error(
            "markdown_path", "write_html_report", "an existing Markdown file", markdown_path
        )
    src = Path(markdown_path)
    dest = src.parent / "index.html" if html_path is None else Path(html_path)
    page = html_report(src.read_text(encoding="utf-8"), base_dir=src.parent)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, dest)
    return str(dest)
