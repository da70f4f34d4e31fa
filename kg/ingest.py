"""Reading articles: .txt, .md, .html and .jsonl files, directories, globs and stdin.

Each input becomes an ``Article`` or an ``InputError`` naming the file (and line) and the fix, so
a batch reports a broken file and goes on with the rest.
"""

from __future__ import annotations

import glob
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from kg.errors import InputError
from kg.model import Article

SUFFIXES = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html",
            ".htm": "html", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_HEADER = re.compile(r"^(Title|Source|Published|URL|Url|Date|Section):\s*(.*)$")
_URL_IN_SOURCE = re.compile(r"\s*(https?://\S+)\s*$")
_MAX_BYTES = 20 * 1024 * 1024


def content_id(text: str) -> str:
    """The stable id of an article without URL: a hash of its text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_date(value: str | None) -> str | None:
    """ISO date (YYYY-MM-DD) from the common forms publishers use; None when unknown."""
    if not value:
        return None
    value = value.strip()
    if not value or value.lower() in {"unknown", "n/a", "none", "-"}:
        return None
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z",
                "%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d, %Y", "%Y/%m/%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    match = re.match(r"^(\d{4}-\d{2}-\d{2})", value)
    return match.group(1) if match else None


def _compose(title: str | None, body: str) -> str:
    """The analysed text: headline, blank line, body (offsets point into this)."""
    body = body.strip("\n")
    return f"{title}\n\n{body}" if title else body


def make_article(body: str, *, title: str | None = None, source: str | None = None,
                 url: str | None = None, published: str | None = None, path: str | None = None,
                 section: str | None = None, article_id: str | None = None) -> Article:
    text = _compose(title.strip() if title else None, body)
    return Article(id=article_id or url or content_id(text), text=text, title=title, source=source,
                   url=url or None, published=normalize_date(published), path=path, section=section)


def _is_short_block(block: str) -> bool:
    """A line group before the first paragraph: publisher, section or headline, not prose."""
    lines = [ln for ln in block.splitlines() if ln.strip()]
    return bool(lines) and all(len(ln.split()) <= 25 and not ln.rstrip().endswith((".", "?\"", ".\"", ".”"))
                               for ln in lines)


def parse_txt(raw: str, path: str) -> Article:
    """Plain text: an optional ``Title:``/``Source:``/``Published:``/``URL:`` block, else short
    lead-in lines (publisher, section, headline) before the first paragraph."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and (m := _HEADER.match(lines[i].strip())):
        meta[m.group(1).lower()] = m.group(2).strip()
        i += 1
    if meta:
        body = "\n".join(lines[i:])
        source, url = meta.get("source"), meta.get("url")
        if source and (m := _URL_IN_SOURCE.search(source)):
            url = url or m.group(1)
            source = source[: m.start()].strip() or None
        return make_article(body, title=meta.get("title"), source=source, url=url,
                            published=meta.get("published") or meta.get("date"), path=path,
                            section=meta.get("section"))

    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    lead: list[str] = []
    while len(blocks) > 1 and _is_short_block(blocks[0]):
        lead.extend(ln.strip() for ln in blocks.pop(0).splitlines() if ln.strip())
    title = source = section = None
    if lead:
        title = lead[-1]
        rest = lead[:-1]
        if rest:
            source = rest[0]
        if len(rest) > 1:
            section = rest[1]
    return make_article("\n\n".join(blocks), title=title, source=source, section=section, path=path)


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPH = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def parse_md(raw: str, path: str) -> Article:
    """Markdown: front-matter-like header lines, the first ``#`` heading as title, markup removed."""
    text = raw.replace("\r\n", "\n").lstrip("\ufeff")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            header = text[4:end]
            text = "\n".join(f"{k.strip().title()}: {v.strip()}" for k, _, v in
                             (ln.partition(":") for ln in header.splitlines() if ":" in ln)) \
                + "\n\n" + text[end + 4:].lstrip("\n")
    title = None
    out: list[str] = []
    for line in text.split("\n"):
        heading = re.match(r"^#{1,6}\s+(.*)$", line)
        if heading and title is None and not any(o.strip() for o in out if not _HEADER.match(o)):
            title = heading.group(1).strip()
            continue
        line = re.sub(r"^#{1,6}\s+", "", line)
        line = re.sub(r"^\s*[-*+]\s+", "", line)
        line = re.sub(r"^>\s?", "", line)
        line = _MD_LINK.sub(r"\1", line)
        line = _MD_EMPH.sub(r"\2", line)
        out.append(line)
    article = parse_txt("\n".join(out), path)
    if title and not article.title:
        return make_article(article.text, title=title, source=article.source, url=article.url,
                            published=article.published, path=path)
    return article


def parse_html(raw: str, path: str) -> Article:
    """HTML: main text and metadata through trafilatura (boilerplate, menus and ads dropped)."""
    import trafilatura

    extracted = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False,
                                            include_tables=False, favor_precision=True)
    if extracted is None:
        raise InputError(path, "no article text found in this HTML page",
                         "Check that it is an article page, or save its text as .txt")
    doc = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    body = (doc.get("text") or "").strip()
    if not body:
        raise InputError(path, "no article text found in this HTML page",
                         "Check that it is an article page, or save its text as .txt")
    return make_article(body, title=doc.get("title"), source=doc.get("sitename") or doc.get("hostname"),
                        url=doc.get("url"), published=doc.get("date"), path=path)


def parse_jsonl_line(line: str, path: str, number: int) -> Article:
    where = f"{path}:{number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise InputError(path, f"not valid JSON ({err.msg} at column {err.colno})",
                         "Write one JSON object per line", line=number) from None
    if not isinstance(record, dict):
        raise InputError(path, "the line is not a JSON object", "Write one object per line with a \"text\" field",
                         line=number)
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(path, "the object has no non-empty \"text\" field",
                         "Give each article its text in \"text\"", line=number)
    for field_name in ("title", "url", "published", "source", "id"):
        value = record.get(field_name)
        if value is not None and not isinstance(value, str):
            raise InputError(path, f"\"{field_name}\" must be a string", "Quote the value", line=number)
    return make_article(text.replace("\r\n", "\n"), title=record.get("title"), source=record.get("source"),
                        url=record.get("url"), published=record.get("published"), path=where,
                        article_id=record.get("id"))


def decode(data: bytes, path: str) -> str:
    """UTF-8 text from bytes, or an InputError for binary or undecodable input."""
    if b"\x00" in data[:8192]:
        raise InputError(path, "this looks like a binary file, not text",
                         "Give kg .txt, .md, .html or .jsonl articles")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text (byte {err.start} cannot be decoded)",
                         "Convert it to UTF-8, e.g. iconv -f latin1 -t utf-8") from None
    if not text.strip():
        raise InputError(path, "the file is empty", "Remove it from the batch or add the article text")
    return text


def read_source(text: str, path: str, kind: str) -> Iterator[Article | InputError]:
    """Articles from one file's decoded text."""
    if kind == "jsonl":
        seen = False
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            seen = True
            try:
                yield parse_jsonl_line(line, path, number)
            except InputError as err:
                yield err
        if not seen:
            yield InputError(path, "the file has no JSON lines", "Write one article object per line")
        return
    parser = {"txt": parse_txt, "md": parse_md, "html": parse_html}[kind]
    try:
        article = parser(text, path)
    except InputError as err:
        yield err
        return
    if not article.text.strip():
        yield InputError(path, "no article text after the header", "Add the body after a blank line")
        return
    yield article


def _kind_of(path: Path) -> str | None:
    return SUFFIXES.get(path.suffix.lower())


def expand_paths(specs: list[str]) -> Iterator[Path | InputError | str]:
    """Files from paths, directories (recursive) and globs; "-" stays "-" for stdin."""
    for spec in specs:
        if spec == "-":
            yield "-"
            continue
        path = Path(spec)
        if any(ch in spec for ch in "*?[") and not path.exists():
            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                yield InputError(spec, "the pattern matches no file", "Check the pattern and quote it")
            for match in matches:
                yield from expand_paths([match])
            continue
        if path.is_dir():
            # Hidden files and a folder's README/LICENSE are not articles.
            files = sorted(p for p in path.rglob("*") if p.is_file() and _kind_of(p)
                           and not p.stem.upper().startswith(("README", "LICENSE", "CHANGELOG"))
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not files:
                yield InputError(path, "the directory holds no .txt, .md, .html or .jsonl file",
                                 "Point kg at a folder of articles")
            yield from files
        elif path.is_file():
            yield path
        else:
            yield InputError(path, "no such file or directory", "Check the path")


def iter_articles(specs: list[str], stdin=None) -> Iterator[Article | InputError]:
    """Every article named by ``specs``, in order; errors are yielded, not raised."""
    for item in expand_paths(specs):
        if isinstance(item, InputError):
            yield item
            continue
        if item == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read()
            if isinstance(data, str):
                data = data.encode("utf-8")
            try:
                text = decode(data, "<stdin>")
            except InputError as err:
                yield err
                continue
            lines = [ln for ln in text.splitlines() if ln.strip()]
            kind = "jsonl" if lines and all(ln.lstrip().startswith("{") for ln in lines) else "txt"
            yield from read_source(text, "<stdin>", kind)
            continue
        path = item
        kind = _kind_of(path)
        if kind is None:
            yield InputError(path, f"unknown file type {path.suffix or '(none)'}",
                             "Use .txt, .md, .html or .jsonl")
            continue
        try:
            if path.stat().st_size > _MAX_BYTES:
                yield InputError(path, "the file is larger than 20 MB",
                                 "Split it into one article per file or per JSONL line")
                continue
            data = path.read_bytes()
        except OSError as err:
            yield InputError(path, f"cannot be read ({err.strerror})", "Check its permissions")
            continue
        try:
            text = decode(data, str(path))
        except InputError as err:
            yield err
            continue
        yield from read_source(text, str(path), kind)
