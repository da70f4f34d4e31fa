"""The map view (kg viz --map): places with events read from the store and drawn on an offline map."""

from __future__ import annotations

import json
import re

import pytest

from kg import mapviz
from kg.errors import UsageError
from kg.ingest import make_article
from kg.store import GraphStore
from tests.browser import PageAssets, launch_chromium, open_offline

# Short reports written for these tests: two attacks on one city, an interception, a deployment, a
# village no gazetteer knows, and a strike on a whole country.
ARTICLES = [
    ("Drones strike Kharkiv overnight",
     "Russian forces attacked Kharkiv with drones overnight, the regional governor said. Ukrainian air "
     "defences shot down 30 drones over Kyiv on Monday.", "kharkiv.txt", "2024-05-06"),
    ("Shelling resumes in Kharkiv",
     "Russian artillery shelled Kharkiv again on Tuesday, the city's mayor said.", "kharkiv-2.txt", "2024-05-07"),
    ("Air defence moves to Kursk",
     "Russian forces deployed S-400 systems near Kursk, the Ministry of Defence of Russia said.", "kursk.txt",
     "2024-05-05"),
    ("Village hit",
     "Russian forces attacked the village of Hrafovka in Kharkiv region on Monday, local officials said.",
     "hrafovka.txt", "2024-05-06"),
    ("Missiles fired at Ukraine",
     "Russia launched missiles at Ukraine overnight, the air force said.", "ukraine.txt", "2024-05-08"),
]
ATTACK_SCRIPT = "<script>window.__pwned=1</script>"
ATTACK_ALERT = "<img src=x onerror=alert(1)>"
ATTACK_LINK = "javascript:alert(2)"
HOSTILE = (f"{ATTACK_SCRIPT} Odesa struck {ATTACK_ALERT} {ATTACK_LINK}",
           f"Russian forces attacked Odesa with drones {ATTACK_ALERT} overnight, see {ATTACK_LINK} for more "
           f"{ATTACK_SCRIPT}.", "hostile.txt", "2024-05-09")


def _build(path, extractor, articles) -> GraphStore:
    store = GraphStore(path)
    for title, body, name, published in articles:
        url = "javascript:alert(3)" if name == "hostile.txt" else None
        store.replace_article(extractor.extract(make_article(body, title=title, path=name, published=published,
                                                             url=url)))
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory, extractor) -> GraphStore:
    return _build(tmp_path_factory.mktemp("map") / "store", extractor, ARTICLES)


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory, extractor) -> GraphStore:
    return _build(tmp_path_factory.mktemp("map-hostile") / "store", extractor, [*ARTICLES, HOSTILE])


def _by_label(places: list[mapviz.MapPlace]) -> dict[str, mapviz.MapPlace]:
    return {place.label: place for place in places}


def _page_data(page: str) -> dict:
    return json.loads(page.split('<script type="application/json" id="kg-data">', 1)[1].split("</script>", 1)[0])


# -- reading the store ---------------------------------------------------------------------------

@pytest.mark.parametrize("wkt, point", [
    ("POINT(36.25475 49.98177)", (36.25475, 49.98177)),
    ("point ( -0.1 51.5 )", (-0.1, 51.5)),
    ("<http://www.opengis.net/def/crs/OGC/1.3/CRS84> POINT(30.5 50.4)", (30.5, 50.4)),
    ("POINT(200 10)", None),
    ("POINT(10 -91)", None),
    ("LINESTRING(0 0, 1 1)", None),
    ("POINT(nan 1)", None),
    ("", None),
    (None, None),
], ids=["plain", "case-and-spaces", "crs-prefix", "lon-out-of-range", "lat-out-of-range", "not-a-point", "nan",
        "empty", "missing"])
def test_map_parse_wkt_point(wkt, point):
    assert mapviz.parse_wkt_point(wkt) == point


def test_map_reads_places_with_coordinates_event_counts_and_evidence(store):
    places = _by_label(mapviz.read_places(store))
    kharkiv = places["Kharkiv"]
    assert (kharkiv.lon, kharkiv.lat) == (36.25475, 49.98177) and not kharkiv.approximate
    assert kharkiv.events == 2 and kharkiv.types == (("Attack", 2),)
    # Newest first, with the time as the article says it and the date it resolves to.
    assert [e.article for e in kharkiv.listed] == ["Shelling resumes in Kharkiv", "Drones strike Kharkiv overnight"]
    assert kharkiv.listed[0].time == "Tuesday (2024-05-07)" and kharkiv.listed[0].published == "2024-05-07"
    assert kharkiv.listed[1].evidence == (   # the headline reports it too, in article order
        "Drones strike Kharkiv overnight",
        "Russian forces attacked Kharkiv with drones overnight, the regional governor said.")
    kyiv = places["Kyiv"]
    assert kyiv.types == (("Interception", 1),) and kyiv.listed[0].quantity == 30
    assert places["Kursk"].types == (("Deployment", 1),)
    assert list(places)[0] == "Kharkiv"   # busiest first


def test_map_places_without_coordinates_are_kept_and_countries_are_approximate(store):
    places = _by_label(mapviz.read_places(store))
    village = places["Hrafovka"]
    assert not village.is_located and village.events == 1
    assert "Hrafovka in Kharkiv region" in village.listed[0].evidence[0]
    ukraine = places["Ukraine"]   # a state: no point in the store, drawn at its centre from countryinfo
    assert ukraine.approximate and ukraine.is_located and ukraine.subtype == "State"
    assert 44 < ukraine.lat < 53 and 22 < ukraine.lon < 41


def test_map_listed_events_share_the_page_budget_round_by_round(monkeypatch):
    monkeypatch.setattr(mapviz, "MAX_EVENTS_PER_PLACE", 3)
    monkeypatch.setattr(mapviz, "MAX_LISTED_EVENTS", 5)
    newest_first = {"hub": ["h0", "h1", "h2", "h3", "h4"], "town": ["t0", "t1"], "village": ["v0"]}
    assert mapviz._choose_listed(newest_first) == {"hub": ["h0", "h1"], "town": ["t0", "t1"], "village": ["v0"]}
    monkeypatch.setattr(mapviz, "MAX_LISTED_EVENTS", 100)
    assert mapviz._choose_listed(newest_first)["hub"] == ["h0", "h1", "h2"]


def test_map_focus_keeps_the_events_of_one_entity(store):
    places = _by_label(mapviz.read_places(store, focus="s-400"))
    assert set(places) == {"Kursk"}
    with pytest.raises(UsageError, match="'Zzyzx'.*kg query entities"):
        mapviz.read_places(store, focus="Zzyzx")


# -- the page ------------------------------------------------------------------------------------

def test_map_html_has_markers_counts_and_no_remote_asset(store, tmp_path):
    path = tmp_path / "map.html"
    report = mapviz.render_html(mapviz.read_places(store), path, "kg map")
    page = path.read_text(encoding="utf-8")
    data = {p["label"]: p for p in _page_data(page)["places"]}
    assert (data["Kharkiv"]["lon"], data["Kharkiv"]["lat"], data["Kharkiv"]["events"]) == (36.25475, 49.98177, 2)
    assert data["Kharkiv"]["colour"] == mapviz.TYPE_COLOURS["Attack"]
    assert data["Kyiv"]["colour"] == mapviz.TYPE_COLOURS["Interception"]
    assert data["Hrafovka"]["lat"] is None
    assert report.unlocated == 1 and report.approximate == 1 and report.located == len(data) - 1
    assert report.bytes == path.stat().st_size < 1_000_000
    assert re.search(r"Not on the map: 1 place without coordinates", page)
    assert '<span class="kg-place-name">Hrafovka</span>' in page

    assets = PageAssets()
    assets.feed(page)
    assert assets.urls == [] and "link" not in assets.tags and "iframe" not in assets.tags
    css = "\n".join(assets.styles)
    assert "@import" not in css
    assert all(url.startswith(("data:", "#")) for url in re.findall(r"url\(\s*[\"']?([^\"')]*)", css))
    csp = assets.meta["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; script-src 'sha256-")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert not re.search(r"openstreetmap|arcgisonline|mapbox|cdnjs|jsdelivr|unpkg|googleapis", page, re.I)


def test_map_outlines_are_small_rounded_and_cover_the_world():
    outlines = json.loads(mapviz._countries().outlines_json)
    names = {f["properties"]["name"] for f in outlines["features"]}
    assert {"Ukraine", "Russia", "Yemen", "Brazil", "Australia"} <= names and len(names) > 150
    assert len(mapviz._countries().outlines_json) < 250_000
    decimals = re.findall(r"\.(\d+)", mapviz._countries().outlines_json)
    assert decimals and max(len(d) for d in decimals) <= mapviz.OUTLINE_DECIMALS


def test_map_html_escapes_hostile_strings(hostile_store, tmp_path):
    path = tmp_path / "hostile.html"
    mapviz.render_html(mapviz.read_places(hostile_store), path, f"kg map {ATTACK_SCRIPT}")
    page = path.read_text(encoding="utf-8")
    for attack in (ATTACK_SCRIPT, ATTACK_ALERT, "<img src=x", "</script><"):
        assert attack not in page
    assert "<title>kg map &lt;script&gt;window.__pwned=1&lt;/script&gt;</title>" in page
    odesa = next(p for p in _page_data(page)["places"] if p["label"] == "Odesa")
    assert ATTACK_ALERT in odesa["listed"][0]["evidence"][0] and ATTACK_SCRIPT in odesa["listed"][0]["article"]


def test_map_cli_writes_out_map_html_by_default(store, tmp_path, run_kg, extractor):
    _build(tmp_path / "store", extractor, ARTICLES[:3])   # the store run_kg's KG_STORE points at
    proc = run_kg("viz", "--map", check_rc=0)
    assert (tmp_path / "out" / "map.html").exists()
    assert "place(s) on the map" in proc.stderr.decode()
    proc = run_kg("viz", "--map", "--query", "events", check_rc=2)
    assert "--query is not supported with --map" in proc.stderr.decode()


# -- in a real browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as running:
        yield running


def _csp_violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line]


def _click_marker(page, label: str) -> str:
    """Open a place's popup by clicking its circle (an open popup could cover it: close that first)."""
    page.evaluate("window.kgMap.closePopup()")
    page.wait_for_selector(".leaflet-popup", state="detached")
    page.locator(f'path.kg-marker[data-kg-place="{label}"]').click(force=True)
    page.wait_for_selector(".leaflet-popup-content .kg-pop")
    return page.inner_text(".leaflet-popup-content")


@pytest.mark.browser
def test_map_page_renders_offline_with_markers_popups_and_legend(store, browser, tmp_path):
    places = mapviz.read_places(store)
    path = tmp_path / "map.html"
    mapviz.render_html(places, path, "kg: test map")
    opened = open_offline(browser, path)
    page = opened.page
    try:
        page.wait_for_selector("body[data-kg-ready]", state="attached", timeout=30_000)
        assert page.locator("#kg-map.leaflet-container").count() == 1
        assert page.locator("#kg-map svg path.kg-country").count() > 150
        located = [p for p in places if p.is_located]
        markers = page.locator("#kg-map svg path.kg-marker")
        assert markers.count() == len(located)
        assert page.locator('path.kg-marker[data-kg-place="Kharkiv"]').get_attribute("data-kg-events") == "2"
        # The view fits the markers: every one of them is inside the map's bounds.
        inside = page.evaluate("""() => window.kgMarkers.map(m => window.kgMap.getBounds().contains(m.getLatLng()))""")
        assert inside == [True] * len(located)
        legend = page.inner_text("#kg-legend")
        assert all(kind in legend for kind in ("Attack", "Interception", "Deployment"))
        assert "dashed" in legend   # Ukraine is drawn at its centre

        popup = _click_marker(page, "Kharkiv")
        assert "Russian forces attacked Kharkiv with drones overnight, the regional governor said." in popup
        assert "Shelling resumes in Kharkiv (2024-05-07)" in popup and "Tuesday (2024-05-07)" in popup
        page.screenshot(path="/tmp/map.png")
        popup = _click_marker(page, "Kyiv")
        assert "Interception" in popup and "30" in popup and "shot down 30 drones over Kyiv" in popup

        page.locator('#kg-unlocated summary:has-text("Hrafovka")').click()
        assert "Hrafovka in Kharkiv region" in page.inner_text("#kg-unlocated")
        assert opened.blocked == [] and opened.errors == [] and opened.dialogs == []
        assert _csp_violations(opened.console) == []
        assert [line for line in opened.console if line.startswith("error")] == []
    finally:
        opened.close()


@pytest.mark.browser
def test_map_hostile_article_runs_nothing_and_shows_the_text(hostile_store, browser, tmp_path):
    path = tmp_path / "hostile.html"
    mapviz.render_html(mapviz.read_places(hostile_store), path, f"kg: {ATTACK_SCRIPT}")
    opened = open_offline(browser, path)
    page = opened.page
    try:
        page.wait_for_selector("body[data-kg-ready]", state="attached", timeout=30_000)
        popup = _click_marker(page, "Odesa")
        assert ATTACK_ALERT in popup and ATTACK_SCRIPT in popup and ATTACK_LINK in popup   # shown as text
        assert ATTACK_SCRIPT in page.inner_text("#kg-title")
        page.locator('path.kg-marker[data-kg-place="Odesa"]').hover(force=True)
        page.wait_for_selector(".leaflet-tooltip")
        page.wait_for_timeout(300)   # let any injected handler (there must be none) fire
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert opened.dialogs == [] and opened.errors == []
        assert page.locator(".leaflet-popup-content img, .leaflet-popup-content script, #kg-title img").count() == 0
        # Leaflet's own controls link to '#'; nothing else is a link, so no javascript: link either.
        assert page.locator('a[href]:not([href^="#"])').count() == 0
        assert _csp_violations(opened.console) == [] and opened.blocked == []
    finally:
        opened.close()
