"""Reading articles: formats, metadata, stable ids, and errors that name the file and line."""

from __future__ import annotations

import io

import pytest

from kg.errors import InputError
from kg.ingest import iter_articles, normalize_date


def _only(items):
    assert len(items) == 1, items
    return items[0]


def test_ingest_txt_header_block(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Title: Drones hit depot\nSource: Example Wire https://example.org/a\nPublished: 2024-03-02\n\n"
                 "Drones struck a fuel depot overnight, officials said.\n", encoding="utf-8")
    article = _only(list(iter_articles([str(f)])))
    assert article.title == "Drones hit depot"
    assert article.source == "Example Wire"
    assert article.url == "https://example.org/a"
    assert article.id == "https://example.org/a"
    assert article.published == "2024-03-02"
    assert article.text.startswith("Drones hit depot\n\nDrones struck")


def test_ingest_txt_lead_lines_are_publisher_section_headline(tmp_path):
    f = tmp_path / "b.txt"
    f.write_text("Harbour Times, HT\nWorld\n\nNavy Repels Drone Boats Near Port\n\n"
                 "The navy said it destroyed three drone boats near the port on Sunday.\n", encoding="utf-8")
    article = _only(list(iter_articles([str(f)])))
    assert (article.source, article.section, article.title) == ("Harbour Times, HT", "World",
                                                                 "Navy Repels Drone Boats Near Port")
    assert "Harbour Times" not in article.text
    assert article.id.startswith("sha256:")


def test_ingest_content_id_is_stable(tmp_path):
    (tmp_path / "x.txt").write_text("Shelling hit the town, the mayor said.\n", encoding="utf-8")
    first = _only(list(iter_articles([str(tmp_path / "x.txt")])))
    second = _only(list(iter_articles([str(tmp_path / "x.txt")])))
    assert first.id == second.id


def test_ingest_jsonl_reports_broken_line_and_goes_on(tmp_path):
    f = tmp_path / "batch.jsonl"
    f.write_text('{"text": "Missiles hit the city, the governor said.", "url": "https://example.org/1"}\n'
                 '{"text": broken\n'
                 '{"title": "no text"}\n'
                 '{"text": "Troops withdrew from the village.", "id": "art-3"}\n', encoding="utf-8")
    items = list(iter_articles([str(f)]))
    errors = [i for i in items if isinstance(i, InputError)]
    articles = [i for i in items if not isinstance(i, InputError)]
    assert [a.id for a in articles] == ["https://example.org/1", "art-3"]
    assert [e.line for e in errors] == [2, 3]
    assert f"{f}:2" in str(errors[0]) and "JSON" in str(errors[0])


@pytest.mark.parametrize("content, problem", [
    (b"\x00\x01\x02binary", "binary"),
    (b"caf\xe9 attack", "UTF-8"),
    (b"   \n\n", "empty"),
])
def test_ingest_bad_files_are_named_with_a_fix(tmp_path, content, problem):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    error = _only(list(iter_articles([str(f)])))
    assert isinstance(error, InputError)
    assert str(f) in str(error) and problem in str(error)


def test_ingest_missing_path_and_unmatched_glob(tmp_path):
    items = list(iter_articles([str(tmp_path / "nope.txt"), str(tmp_path / "*.md")]))
    assert all(isinstance(i, InputError) for i in items) and len(items) == 2


def test_ingest_directory_is_recursive_and_skips_readme(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "one.txt").write_text("Artillery shelled the village, officials said.\n")
    (tmp_path / "two.md").write_text("# Strike on base\n\nA **drone** struck the [air base](http://x).\n")
    (tmp_path / "README.md").write_text("These are my notes.\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    articles = list(iter_articles([str(tmp_path)]))
    assert len(articles) == 2
    md = next(a for a in articles if a.path.endswith("two.md"))
    assert md.title == "Strike on base" and "A drone struck the air base." in md.text


def test_ingest_html_main_text(tmp_path):
    f = tmp_path / "page.html"
    body = " ".join(["Russian forces shelled the town of Kupiansk on Monday, regional officials said."] * 4)
    f.write_text(f"<html><head><title>Shelling in Kupiansk</title></head><body><nav>Home | World</nav>"
                 f"<article><h1>Shelling in Kupiansk</h1><p>{body}</p><p>{body}</p></article>"
                 f"<footer>Copyright</footer></body></html>", encoding="utf-8")
    article = _only(list(iter_articles([str(f)])))
    assert article.title == "Shelling in Kupiansk"
    assert "shelled the town" in article.text and "Copyright" not in article.text


def test_ingest_stdin_text_and_jsonl():
    text = list(iter_articles(["-"], stdin=io.BytesIO(b"Drones attacked the port, the navy said.\n")))
    assert _only(text).path == "<stdin>"
    lines = list(iter_articles(["-"], stdin=io.BytesIO(b'{"text": "a strike"}\n{"text": "a raid"}\n')))
    assert len(lines) == 2


@pytest.mark.parametrize("raw, iso", [("2024-08-06", "2024-08-06"), ("unknown", None), ("6 August 2024", "2024-08-06"),
                                      ("August 6, 2024", "2024-08-06"), ("2024-08-06T10:00:00Z", "2024-08-06")])
def test_ingest_dates_normalised(raw, iso):
    assert normalize_date(raw) == iso
