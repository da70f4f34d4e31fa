"""The browser UI of kg serve (kg/ui.py), through a real uvicorn server on 127.0.0.1 port 0.

The store holds the seed article and a hostile one (markup, event handlers and javascript: URLs in its
title, source, URL and text). The HTTP tests check the JSON API and the escaping of every page; the
browser tests drive Debian's chromium, which may reach the server's origin and nothing else.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kg.rdf import ID
from tests.browser import OfflinePage, launch_chromium, record_page_events
from tests.conftest import ROOT, SEED
from tests.test_serve import _build_store, _running

HOSTILE_TITLE = "<script>alert('title')</script>Belgorod <img src=x onerror=\"alert('title-img')\">"
HOSTILE_SOURCE = "<b onmouseover=\"alert('source')\">Evil Daily</b>"
HOSTILE_URL = "javascript:alert(document.domain)"
HOSTILE_BODY = (
    "Russia's Defence Ministry said <script>alert('body')</script> its S-400 systems shot down 12 Ukrainian "
    "drones over Belgorod overnight.\n\n"
    "Ukraine denied the claim <img src=x onerror=\"alert('img')\"> and officials in Kyiv called the report "
    "javascript:alert('text') propaganda.\n\n"
    "Residents near Kursk shared <a href=\"javascript:alert('link')\">videos</a> of the explosions, "
    "<svg onload=\"document.title='pwned'\"></svg> local media said."
)
SEED_KEY_QUERY = "SELECT ?a WHERE { ?a a schema:NewsArticle ; kg:sourcePath ?p . FILTER(CONTAINS(?p, 'kmia')) }"
SCREENSHOT = ROOT / "docs" / "ui-query.png"


# -- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def articles():
    from kg.ingest import make_article, parse_txt

    seed = parse_txt(SEED.read_text(encoding="utf-8"), str(SEED.relative_to(ROOT)))
    hostile = make_article(HOSTILE_BODY, title=HOSTILE_TITLE, source=HOSTILE_SOURCE, url=HOSTILE_URL,
                           published="2025-03-02", path="<hostile>")
    return seed, hostile


@pytest.fixture(scope="module")
def keys(articles) -> dict[str, str]:
    from kg.rdf import article_iri

    seed, hostile = articles
    return {"seed": article_iri(seed).rsplit("/", 1)[-1], "hostile": article_iri(hostile).rsplit("/", 1)[-1]}


@pytest.fixture(scope="module")
def extractions(extractor, articles):
    return [extractor.extract(article) for article in articles]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory, extractions) -> Path:
    return _build_store(tmp_path_factory.mktemp("ui") / "store", extractions)


@pytest.fixture(scope="module")
def server(store_path) -> Iterator[str]:
    from kg.serve import create_app

    with _running(create_app(store_path)) as url:
        yield url


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as session:
        yield session


def _page(client: httpx.Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def _assert_inert(page: str) -> None:
    """Nothing of the hostile article became markup: no element, handler or javascript: link."""
    lowered = page.lower()
    for needle in ("<script>alert", "<img src=x", "<svg onload", "<b onmouseover", "<a href=\"javascript"):
        assert needle not in lowered, needle
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", lowered)


# -- pure helpers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("iri, href", [
    (f"{ID}weaponsystem/s-400", "/entity/weaponsystem/s-400"),
    (f"{ID}actor/russia/air-defense", "/entity/actor/russia/air-defense"),
    (f"{ID}article/0123abcd", "/article/0123abcd"),
    (f"{ID}article/0123abcd/event/2", f"/resource?iri={ID.replace(':', '%3A').replace('/', '%2F')}article%2F0123abcd"
                                      "%2Fevent%2F2"),
    ("http://www.wikidata.org/entity/Q159", "http://www.wikidata.org/entity/Q159"),
    ("javascript:alert(1)", None),
    ("urn:x:y", None),
    ("https://example.org/a b", None),
])
def test_ui_link_for_our_iris_external_urls_and_nothing_else(iri, href):
    from kg.ui import link_for

    assert link_for(iri) == href


def test_ui_split_sentence_cuts_mentions_by_article_offsets_and_skips_overlaps():
    from kg.ui import split_sentence

    text = "Russia said S-400 units moved."   # the sentence starts at offset 100 of its article
    mentions = [{"start": 112, "end": 117, "entity": "w", "label": "S-400", "kind": "WeaponSystem", "subtype": None},
                {"start": 100, "end": 106, "entity": "r", "label": "Russia", "kind": "Actor", "subtype": "State"},
                {"start": 112, "end": 114, "entity": "x", "label": "S", "kind": "Actor", "subtype": None},
                {"start": 125, "end": 140, "entity": "y", "label": "far", "kind": "Place", "subtype": None}]
    parts = split_sentence(text, 100, mentions)
    assert [(p.text, p.entity) for p in parts] == [("Russia", "r"), (" said ", None), ("S-400", "w"),
                                                    (" units moved.", None)]


# -- JSON API ---------------------------------------------------------------------------------------
def test_ui_api_lists_canned_queries_with_their_parameters(server, client):
    queries = {q["name"]: q for q in client.get(f"{server}/api/queries").json()}
    assert {"weapons-by-place", "evidence", "contradictions", "entities"} <= set(queries)
    assert queries["weapons-by-place"]["params"] == [
        {"name": "weapon", "kind": "literal", "required": False,
         "doc": "only this weapon system (label, e.g. S-400)"}]
    assert queries["evidence"]["params"][0]["required"] is True
    assert "SELECT" in queries["entities"]["sparql"]


def test_ui_api_query_binds_parameters(server, client):
    response = client.get(f"{server}/api/query/weapons-by-place", params={"weapon": "s-400"})
    assert response.status_code == 200 and response.headers["x-kg-truncated"] == "false"
    data = response.json()
    assert data["head"]["vars"] == ["weapon", "place", "basis", "reports", "example"]
    rows = [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]
    assert rows and {r["weapon"] for r in rows} == {"S-400"}
    assert {"Kursk Oblast", "Belgorod Oblast"} <= {r["place"] for r in rows}
    everything = client.get(f"{server}/api/query/weapons-by-place").json()["results"]["bindings"]
    assert {b["weapon"]["value"] for b in everything} >= {"S-300", "S-400"}


def test_ui_api_query_post_json_equals_get(server, client):
    by_get = client.get(f"{server}/api/query/evidence", params={"entity": "S-400"})
    by_post = client.post(f"{server}/api/query/evidence", json={"params": {"entity": "S-400"}})
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.json() == by_post.json()
    sentences = [b["sentence"]["value"] for b in by_get.json()["results"]["bindings"]]
    assert any("S-300 and S-400 batteries" in s for s in sentences)
    assert any("its S-400 systems shot down" in s for s in sentences)   # the hostile article's, as text


def test_ui_api_query_values_are_bound_not_pasted(server, client):
    before = client.get(f"{server}/health").json()["quads"]
    injection = 'S-400") || true) } } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o FILTER(("'
    response = client.get(f"{server}/api/query/weapons-by-place", params={"weapon": injection})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []   # compared as a string: no such weapon
    assert client.get(f"{server}/health").json()["quads"] == before


def test_ui_api_query_csv_download(server, client):
    response = client.get(f"{server}/api/query/weapons-by-place",
                          params={"weapon": "S-400", "format": "csv", "download": "1"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="weapons-by-place.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and {r["weapon"] for r in rows} == {"S-400"}
    as_json = client.get(f"{server}/api/query/weapons-by-place",
                         params={"weapon": "S-400", "format": "json", "download": "1"})
    assert as_json.headers["content-disposition"] == 'attachment; filename="weapons-by-place.json"'
    assert len(as_json.json()["results"]["bindings"]) == len(rows)


@pytest.mark.parametrize("path, params, status, words", [
    ("/api/query/no-such-query", {}, 404, "no canned query"),
    ("/api/query/evidence", {}, 400, "entity"),
    ("/api/query/weapons-by-place", {"colour": "red"}, 400, "no parameter 'colour'"),
    ("/api/query/weapons-by-place", {"format": "xlsx"}, 400, "json, csv or tsv"),
    ("/api/query/weapons-manufacturer-wikidata", {}, 400, "network"),
])
def test_ui_api_query_errors_say_what_to_do(server, client, path, params, status, words):
    response = client.get(f"{server}{path}", params=params)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_ui_api_query_truncates_at_max_rows(extractions, client, tmp_path):
    from kg.serve import create_app

    with _running(create_app(_build_store(tmp_path / "store", extractions), max_rows=1)) as url:
        response = client.get(f"{url}/api/query/entities")
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 1
    assert response.headers["x-kg-truncated"] == "true" and response.headers["x-kg-max-rows"] == "1"


# -- pages ------------------------------------------------------------------------------------------
def test_ui_home_shows_figures_latest_articles_and_top_entities(server, client, keys):
    response = client.get(f"{server}/")
    assert response.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")
    page = response.text
    assert '<th>articles</th><td class="n">2</td>' in page
    assert f'href="/article/{keys["hostile"]}"' in page and f'href="/article/{keys["seed"]}"' in page
    # The dated (hostile) article comes first; undated ones after.
    assert page.index(f'/article/{keys["hostile"]}') < page.index(f'/article/{keys["seed"]}')
    assert 'href="/entity/actor/ukraine"' in page and 'href="/entity/weaponsystem/s-400"' in page
    _assert_inert(page)


def test_ui_entity_page(server, client, keys):
    page = _page(client, f"{server}/entity/place/kursk-oblast")
    assert "<h1><span class=\"swatch\"></span>Kursk Oblast</h1>" in page
    assert "Place · Region" in page
    assert 'href="https://sws.geonames.org/538555/" rel="noopener noreferrer" target="_blank"' in page
    assert "51.6561, 35.9373" in page   # lat, lon from the WKT point (lon lat)
    assert f'href="/article/{keys["seed"]}#s-' in page
    assert "/ui/graph?focus=" in page
    s400 = _page(client, f"{server}/entity/weaponsystem/s-400")
    assert "SA-21 Growler" in s400 and "Deployment" in s400
    russia = _page(client, f"{server}/entity/actor/russia")
    assert 'href="http://www.wikidata.org/entity/Q159"' in russia
    assert "stance-accuse" in russia   # "Russian officials have accused Ukraine ..."


def test_ui_article_page_highlights_mentions_and_lists_facts(server, client, keys):
    page = _page(client, f"{server}/article/{keys['seed']}")
    assert "Urgent Update: Russia Intercepts 55 Ukrainian Drones" in page
    assert re.search(r'<a class="mention k-WeaponSystem s-SurfaceToAirMissileSystem" '
                     r'href="/entity/weaponsystem/s-400" title="S-400 \(WeaponSystem · SurfaceToAirMissileSystem\)">'
                     r'S-400</a>', page)
    anchors = set(re.findall(r'id="(s-\d+)"', page))
    links = set(re.findall(rf'href="/article/{keys["seed"]}#(s-\d+)"', page))
    assert links and links <= anchors   # every event and statement links to a sentence on the page
    assert "Interception" in page and 'id="event-1"' in page and "stance-deny" in page


def test_ui_claims_page_groups_statements_and_shows_contradictions(server, client):
    page = _page(client, f"{server}/claims")
    assert page.count('class="claim-group"') >= 1
    contradictions = page[page.index('id="contradictions"'):page.index('id="by-event"')]
    assert "denial" in contradictions and "Kyiv has consistently denied" in contradictions
    filtered = _page(client, f"{server}/claims?actor=NATO")
    assert "No contradiction found for NATO" in filtered


def test_ui_resource_sends_events_to_their_sentence(server, client, keys):
    iri = f"{ID}article/{keys['seed']}/event/1"
    response = client.get(f"{server}/resource", params={"iri": iri})
    assert response.status_code == 303
    assert re.fullmatch(rf"/article/{keys['seed']}#s-\d+", response.headers["location"])


@pytest.mark.parametrize("path", ["/entity/actor/no-such-actor", "/entity/spaceship/x", "/article/no-such-key",
                                  "/article/bad%20key", "/resource?iri=urn:x"])
def test_ui_unknown_pages_are_404_with_a_hint(server, client, path):
    response = client.get(f"{server}{path}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_ui_every_page_escapes_the_hostile_article(server, client, keys):
    article = _page(client, f"{server}/article/{keys['hostile']}")
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;Belgorod" in article
    assert "&lt;img src=x onerror=&#34;alert(&#39;img&#39;)&#34;&gt;" in article
    assert HOSTILE_URL in article and "source: <span class=\"url\">" in article   # shown, not linked
    pages = [article, _page(client, f"{server}/"), _page(client, f"{server}/claims"),
             _page(client, f"{server}/entity/place/belgorod"), _page(client, f"{server}/query"),
             _page(client, f"{server}/query?sparql=%3Cscript%3Ealert(1)%3C/script%3E")]
    for page in pages:
        _assert_inert(page)


def test_ui_graph_view_renders_kg_viz_pages(server, client):
    focus = client.get(f"{server}/ui/graph", params={"focus": f"{ID}weaponsystem/s-400", "hops": 2})
    assert focus.status_code == 200 and 'http-equiv="Content-Security-Policy"' in focus.text
    assert "vis-network" in focus.text and "S-400" in focus.text
    results = client.get(f"{server}/ui/graph", params={"name": "weapons-by-place", "param.weapon": "S-400"})
    assert results.status_code == 200 and "Kursk Oblast" in results.text
    free = client.get(f"{server}/ui/graph", params={"sparql": "SELECT ?e WHERE { ?e skos:prefLabel 'NATO'@en }"})
    assert free.status_code == 200 and "NATO" in free.text
    assert client.get(f"{server}/ui/graph", params={"sparql": "DROP ALL"}).status_code == 403
    assert client.get(f"{server}/ui/graph").status_code == 400


def test_ui_static_files_and_vendored_codemirror(server, client):
    for path in ("/ui/static/query.js", "/ui/static/ui.css", "/ui/vendor/codemirror/codemirror.js",
                 "/ui/vendor/codemirror/sparql.js", "/ui/types.css"):
        assert client.get(f"{server}{path}").status_code == 200, path
    assert ".k-WeaponSystem" in client.get(f"{server}/ui/types.css").text
    assert client.get(f"{server}/endpoint").status_code == 200   # the plain page of kg serve, moved


# -- browser ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as running:
        yield running


def _open_local(browser, origin: str, path: str) -> OfflinePage:
    """Like tests.browser.open_offline, for a page served by ``origin``: requests anywhere else are aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    seen = OfflinePage(page)

    def route(route) -> None:
        url = route.request.url
        if url == origin or url.startswith(origin + "/") or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            seen.blocked.append(url)
            route.abort()

    context.route("**/*", route)
    record_page_events(seen)
    page.goto(origin + path)
    return seen


def _assert_clean(seen: OfflinePage) -> None:
    assert seen.blocked == [], seen.blocked
    assert seen.dialogs == [], seen.dialogs
    assert seen.errors == [], seen.errors
    assert [c for c in seen.console if c.startswith("error")] == [], seen.console


def _column(page, index: int) -> list[str]:
    return page.eval_on_selector_all(f"#kg-table tbody tr td:nth-child({index})",
                                     "cells => cells.map(c => c.textContent)")


@pytest.mark.browser
def test_ui_browser_query_page(browser, server, tmp_path):
    seen = _open_local(browser, server, "/query")
    page = seen.page
    try:
        page.wait_for_selector("body[data-kg-ready]")
        # CodeMirror highlights the example query.
        keywords = page.eval_on_selector_all(".CodeMirror .cm-keyword", "spans => spans.map(s => s.textContent)")
        assert "SELECT" in keywords and "WHERE" in keywords
        assert "?label" in page.eval_on_selector_all(".CodeMirror .cm-variable-2", "s => s.map(x => x.textContent)")

        # One click on a canned query runs it; its parameter is a form field.
        page.click('.canned-button[data-name="weapons-by-place"]')
        page.wait_for_selector("#kg-table tbody tr")
        page.fill("#kg-param-weapon", "S-400")
        page.click("#kg-canned-run")
        page.wait_for_function("() => [...document.querySelectorAll('#kg-table tbody tr td:first-child')]"
                               ".every(td => td.textContent === 'S-400')")
        places = _column(page, 2)
        assert {"Kursk Oblast", "Belgorod Oblast"} <= set(places)
        assert "weapon=S-400" in page.url   # the state is in the address, to share

        # Sorting by a header, both ways.
        page.click("#kg-table thead th:nth-child(2) button")
        ascending = _column(page, 2)
        assert ascending == sorted(ascending, key=str.lower)
        assert page.get_attribute("#kg-table thead th:nth-child(2)", "aria-sort") == "ascending"
        page.click("#kg-table thead th:nth-child(2) button")
        assert _column(page, 2) == sorted(ascending, key=str.lower, reverse=True)

        # CSV download of the same result.
        with page.expect_download() as download:
            page.click("#kg-download-csv")
        path = tmp_path / "result.csv"
        download.value.save_as(path)
        assert download.value.suggested_filename == "weapons-by-place.csv"
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert rows and {r["weapon"] for r in rows} == {"S-400"}

        # The graph of the results, drawn by kg viz's page in an iframe.
        page.click("#kg-show-graph")
        frame = page.frame_locator("#kg-graph")
        frame.locator("body[data-kg-ready]").wait_for(timeout=30000)
        labels = page.frame(url=re.compile(r".*/ui/graph\?.*")).evaluate(
            "() => window.kgNetwork.body.data.nodes.get().map(n => n.kg.label)")
        assert "S-400" in labels and "Kursk Oblast" in labels

        # Free SPARQL from the editor; IRIs become links to the UI's pages.
        page.click("#kg-show-table")
        page.evaluate("() => window.kgEditor.setValue("
                      "'SELECT ?entity ?label WHERE { ?entity skos:prefLabel ?label } ORDER BY ?label')")
        page.click("#kg-sparql-run")
        page.wait_for_selector('#kg-table tbody a[href="/entity/weaponsystem/s-400"]')
        page.click('#kg-table tbody a[href="/entity/weaponsystem/s-400"]')
        page.wait_for_selector("h1")
        assert page.inner_text("h1").strip() == "S-400"

        if os.environ.get("KG_SCREENSHOTS") == "1":   # refreshes docs/ui-query.png for the README
            page.goto(f"{server}/query?name=weapons-by-place&weapon=S-300")
            page.wait_for_selector("#kg-table tbody tr")
            page.click("#kg-table thead th:nth-child(2) button")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=False)
        _assert_clean(seen)
    finally:
        seen.close()


@pytest.mark.browser
def test_ui_browser_entity_to_article_sentence(browser, server, keys):
    seen = _open_local(browser, server, "/entity/weaponsystem/s-400")
    page = seen.page
    try:
        assert page.inner_text("h1").strip() == "S-400"
        page.click(f"ul.mentions a.sentence-link[href^='/article/{keys['seed']}#']")
        page.wait_for_function("() => location.pathname.startsWith('/article/') && location.hash")
        page.wait_for_selector("article.text")
        assert re.fullmatch(rf".*/article/{keys['seed']}#s-\d+", page.url)
        target = page.evaluate("() => { const t = document.querySelector(':target'); return t && "
                               "[t.id, getComputedStyle(t).backgroundColor, t.textContent]; }")
        assert target and target[0].startswith("s-") and "S-400" in target[2]
        assert target[1] not in ("rgba(0, 0, 0, 0)", "transparent")   # highlighted
        kinds = page.eval_on_selector_all("article.text .mention", "ms => ms.map(m => m.className)")
        assert any("k-WeaponSystem" in k for k in kinds) and any("k-Actor" in k for k in kinds)
        assert any("k-Place" in k for k in kinds)
        colours = {page.evaluate(f"() => getComputedStyle(document.querySelector('article.text .mention.{k}'))"
                                 ".borderBottomColor") for k in ("k-Actor", "k-WeaponSystem", "k-Place")}
        assert len(colours) == 3   # coloured by type
        # An event in the side list leads back to its sentence.
        page.click("#event-1 blockquote a")
        assert page.evaluate("() => document.querySelector(':target').classList.contains('sentence')")
        _assert_clean(seen)
    finally:
        seen.close()


@pytest.mark.browser
def test_ui_browser_claims_view(browser, server):
    seen = _open_local(browser, server, "/claims")
    page = seen.page
    try:
        assert page.locator(".claim-group li.statement").count() >= 2
        contradiction = page.inner_text("table.contradictions tbody")
        assert "deny" in contradiction and "accuse" in contradiction
        _assert_clean(seen)
    finally:
        seen.close()


@pytest.mark.browser
def test_ui_browser_hostile_article_runs_nothing(browser, server, keys):
    for path in (f"/article/{keys['hostile']}", "/", "/claims", "/entity/place/belgorod",
                 "/query?name=statements", "/query?name=evidence&entity=Belgorod"):
        seen = _open_local(browser, server, path)
        page = seen.page
        try:
            page.wait_for_load_state("load")
            if path.startswith("/query"):
                page.wait_for_selector("#kg-table tbody tr")
                assert "alert(" in page.inner_text("#kg-table")   # shown as text
                page.click("#kg-show-graph")
                page.frame_locator("#kg-graph").locator("body[data-kg-ready]").wait_for(timeout=30000)
            if path.startswith("/article"):
                assert "<script>alert('title')</script>Belgorod" in page.inner_text("h1")
                assert page.locator("article.text img, article.text script, article.text svg").count() == 0
                assert page.locator("a[href^='javascript' i]").count() == 0
            assert page.title() != "pwned"
            _assert_clean(seen)
        finally:
            seen.close()
