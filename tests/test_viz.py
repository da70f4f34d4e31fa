"""The viz stage: projecting the store into a networkx graph and rendering one offline HTML page."""

from __future__ import annotations

import re
import time

import networkx as nx
import pytest

from kg import viz
from kg.errors import UsageError
from kg.ingest import make_article
from kg.store import GraphStore
from tests.browser import PageAssets, launch_chromium, open_offline

# Short reports written for these tests, in the style of wire copy.
ARTICLES = [
    ("Russia moves S-400 batteries closer to Kursk",
     "Russian forces deployed S-400 air defence systems near Kursk this week, the Ministry of Defence "
     "of Russia said. Ukraine's air force said Russian forces attacked Kharkiv with drones overnight.",
     "kursk.txt"),
    ("Ukraine shoots down drones over Kyiv",
     "Ukrainian air defences shot down 30 drones over Kyiv overnight, the Ukrainian Air Force said. "
     "Moscow denied that its forces had targeted civilian areas.",
     "kyiv.txt"),
    ("Houthis claim missile attack on ship in Red Sea",
     "Houthi rebels launched a ballistic missile at a commercial ship in the Red Sea on Monday, the "
     "group's spokesman Yahya Saree said. The United States condemned the attack.",
     "red-sea.txt"),
]
ATTACK_SCRIPT = "<script>window.__pwned=1</script>"
ATTACK_IMAGE = '<img src=x onerror="window.__pwned=1">'
ATTACK_ALERT = "<img src=x onerror=alert(1)>"
HOSTILE = (f"{ATTACK_SCRIPT} Russian forces move air defences {ATTACK_IMAGE}",
           f"Russian forces deployed S-400 systems near Belgorod {ATTACK_IMAGE}, the Ministry of Defence "
           f"of Russia said {ATTACK_SCRIPT}. Officials said {ATTACK_ALERT} the move was defensive.",
           "hostile.txt")


def _build(path, extractor, articles) -> GraphStore:
    store = GraphStore(path)
    for title, body, name in articles:
        store.replace_article(extractor.extract(make_article(body, title=title, path=name)))
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory, extractor) -> GraphStore:
    return _build(tmp_path_factory.mktemp("viz") / "store", extractor, ARTICLES)


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory, extractor) -> GraphStore:
    return _build(tmp_path_factory.mktemp("viz-hostile") / "store", extractor, [*ARTICLES, HOSTILE])


def _labels(graph: nx.MultiDiGraph) -> set[str]:
    return {data["label"] for _, data in graph.nodes(data=True)}


def _node(graph: nx.MultiDiGraph, label: str) -> str:
    return next(n for n, data in graph.nodes(data=True) if data["label"] == label)


# -- projection ----------------------------------------------------------------------------------

def test_viz_projection_has_every_kind_and_role(store):
    graph, report = viz.project(store)
    kinds = {data["kind"] for _, data in graph.nodes(data=True)}
    roles = {key for _, _, key in graph.edges(keys=True)}
    assert kinds == {"Actor", "WeaponSystem", "Place", "Event", "Statement"}
    assert {"agent", "weapon", "place", "speaker", "about"} <= roles
    assert (report.nodes, report.edges, report.dropped_nodes, report.dropped_edges) == (
        graph.number_of_nodes(), graph.number_of_edges(), 0, 0)

    s400 = graph.nodes[_node(graph, "S-400")]
    assert (s400["kind"], s400["subtype"]) == ("WeaponSystem", "SurfaceToAirMissileSystem")
    assert s400["count"] == 2 and s400["articles"] == 1            # headline and body
    assert ("Russia moves S-400 batteries closer to Kursk",) * 2 == tuple(a for _, a in s400["evidence"])
    assert any("deployed S-400" in sentence for sentence, _ in s400["evidence"])
    deployment = next(event for event, _, role in graph.in_edges(_node(graph, "S-400"), keys=True)
                      if role == "weapon")
    assert graph.nodes[deployment]["kind"] == "Event" and graph.nodes[deployment]["subtype"] == "Deployment"
    assert graph.edges[deployment, _node(graph, "Kursk"), "place"]["label"] == "place"


def test_viz_statement_nodes_carry_stance_and_speaker(store):
    graph, _ = viz.project(store)
    statements = {n: data for n, data in graph.nodes(data=True) if data["kind"] == "Statement"}
    assert {"assert", "deny"} <= {data["subtype"] for data in statements.values()}
    denial = next(n for n, data in statements.items() if data["subtype"] == "deny")
    speakers = [graph.nodes[target]["label"] for _, target, role in graph.out_edges(denial, keys=True)
                if role == "speaker"]
    assert speakers == ["Russia"]
    assert "Moscow denied" in graph.nodes[denial]["evidence"][0][0]


def test_viz_focus_and_hops_restrict_the_graph(store):
    full, _ = viz.project(store)
    one, report = viz.project(store, focus="s-400", hops=1)
    two, _ = viz.project(store, focus="S-400", hops=2)
    zero, _ = viz.project(store, focus="S-400", hops=0)
    assert _labels(zero) == {"S-400"}
    assert {data["kind"] for n, data in one.nodes(data=True) if data["label"] != "S-400"} == {"Event"}
    assert set(zero) < set(one) < set(two) < set(full)
    assert {"Russian Armed Forces", "Kursk"} <= _labels(two)
    assert not {"Red Sea", "Yahya Saree", "Kyiv"} & _labels(two)
    assert "within 1 hop(s) of S-400" in report.note and report.dropped_nodes == 0


@pytest.mark.parametrize("focus", ["Russian forces", "RUSSIAN ARMED FORCES"],
                         ids=["mention-text", "any-case"])
def test_viz_focus_matches_mention_text_and_case(store, focus):
    graph, _ = viz.project(store, focus=focus, hops=1)
    assert "Russian Armed Forces" in _labels(graph)
    assert "Red Sea" not in _labels(graph)


def test_viz_seeds_are_iris_or_labels_and_unknown_ones_are_reported(store):
    full, _ = viz.project(store)
    red_sea = _node(full, "Red Sea")
    graph, report = viz.project(store, seeds=[red_sea, "https://example.org/not-a-node"], hops=1)
    assert "Red Sea" in _labels(graph) and "S-400" not in _labels(graph)
    assert "1 result value(s)" in report.note
    by_label, _ = viz.project(store, seeds=["red sea"], hops=1)
    assert set(by_label) == set(graph)
    with pytest.raises(UsageError, match="none of the 1 value"):
        viz.project(store, seeds=["https://example.org/not-a-node"])


def test_viz_unknown_focus_raises_usage_error_with_suggestions(store):
    with pytest.raises(UsageError) as caught:
        viz.project(store, focus="S-401")
    message = str(caught.value)
    assert "'S-401'" in message and "'S-400'" in message
    with pytest.raises(UsageError, match="'Zzyzx'.*kg query entities"):
        viz.project(store, focus="Zzyzx")


def test_viz_budget_keeps_hubs_and_reports_what_was_left_out(store):
    full, _ = viz.project(store)
    graph, report = viz.project(store, node_budget=6)
    assert report.nodes == graph.number_of_nodes() == 6
    assert report.dropped_nodes == full.number_of_nodes() - 6
    assert report.dropped_edges > 0
    assert "over the budget of 6 nodes" in report.note and "left out" in report.note
    assert graph.graph["note"] == report.note
    busiest = max((n for n, d in full.nodes(data=True) if d["kind"] in viz.ENTITY_KINDS),
                  key=lambda n: len(set(full.succ[n]) | set(full.pred[n])))
    assert busiest in graph


def test_viz_budget_folds_left_out_events_into_weighted_edges():
    graph = nx.MultiDiGraph()
    for iri, kind in (("russia", "Actor"), ("ukraine", "Actor"), ("kharkiv", "Place")):
        graph.add_node(iri, label=iri.title(), kind=kind, subtype=None, count=1)
    for i in range(9):
        graph.add_node(f"attack{i}", label=f"Attack {i}", kind="Event", subtype="Attack", count=1)
        graph.add_edge(f"attack{i}", "russia", key="agent", role="agent")
        graph.add_edge(f"attack{i}", "ukraine", key="target", role="target")
        graph.add_edge(f"attack{i}", "kharkiv", key="place", role="place")
    reduced, note = viz._reduce(graph, {}, budget=9)
    assert reduced.number_of_nodes() == 9
    assert {"russia", "ukraine", "kharkiv"} <= set(reduced)
    folded = reduced.get_edge_data("russia", "ukraine")["Attack target"]
    assert folded["weight"] == 3 and folded["label"] == "Attack target"
    assert reduced.get_edge_data("russia", "kharkiv")["Attack place"]["weight"] == 3
    assert "3 left-out events/statements drawn as 2 weighted edges" in note


# -- rendering -----------------------------------------------------------------------------------

def test_viz_html_has_no_remote_asset(store, tmp_path):
    graph, _ = viz.project(store)
    path = tmp_path / "graph.html"
    viz.render_html(graph, path, "kg graph")
    page = path.read_text(encoding="utf-8")
    assets = PageAssets()
    assets.feed(page)
    assert assets.urls == []                           # nothing is linked: everything is inline
    assert "link" not in assets.tags and "iframe" not in assets.tags
    css = "\n".join(assets.styles)
    assert "@import" not in css
    assert all(url.startswith("data:") for url in re.findall(r"url\(\s*[\"']?([^\"')]*)", css))
    assert not re.search(r"cdnjs|jsdelivr|unpkg|googleapis|bootstrap|tom-select", page, re.I)
    csp = assets.meta["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; script-src 'sha256-")
    assert "unsafe-inline" not in csp.split(";")[1]


def test_viz_html_escapes_hostile_strings(tmp_path):
    graph = nx.MultiDiGraph(note=f"note {ATTACK_SCRIPT}")
    evidence = [(f"A sentence {ATTACK_IMAGE} </script><!--", f"Headline {ATTACK_SCRIPT}")]
    graph.add_node("x", label=f"Name {ATTACK_SCRIPT}", kind="Actor", subtype=ATTACK_IMAGE, count=1,
                   articles=1, evidence=evidence)
    path = tmp_path / "hostile.html"
    viz.render_html(graph, path, f"Title {ATTACK_SCRIPT}")
    page = path.read_text(encoding="utf-8")
    for attack in (ATTACK_SCRIPT, ATTACK_IMAGE, "<img src=x", "window.__pwned=1</script>", "</script><!--"):
        assert attack not in page
    assert "<title>Title &lt;script&gt;window.__pwned=1&lt;/script&gt;</title>" in page
    data = page.split('<script type="application/json" id="kg-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and "\\u003cimg src=x onerror=" in data


# -- in a real browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as running:
        yield running


_NODE_POINTS = """() => {
  const canvas = document.querySelector('#kg-network canvas').getBoundingClientRect();
  const positions = window.kgNetwork.getPositions();
  return Object.entries(positions).map(([id, p]) => {
    const dom = window.kgNetwork.canvasToDOM(p);
    return {id, dom, x: canvas.left + dom.x, y: canvas.top + dom.y};
  }).filter(p => p.x > canvas.left && p.x < canvas.right && p.y > canvas.top && p.y < canvas.bottom
                 && window.kgNetwork.getNodeAt(p.dom) === p.id);   // not hidden under another node
}"""


def _hover(page, nodes: set[str] | None = None, limit: int = 8) -> list[str]:
    """Move the mouse over visible nodes (those in ``nodes``, or any); returns the tooltips shown."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    points = [p for p in page.evaluate(_NODE_POINTS) if nodes is None or p["id"] in nodes]
    texts = []
    for point in points[:limit]:
        page.mouse.move(point["x"], point["y"])
        try:
            page.wait_for_selector("div.vis-tooltip", state="visible", timeout=1000)
        except PlaywrightTimeout:
            continue   # hovering an edge label on top of the node shows the edge's tooltip
        texts.append(page.inner_text("div.vis-tooltip"))
        page.mouse.move(2, 2)
    return texts


def _csp_violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line]


@pytest.mark.browser
def test_viz_page_renders_offline_with_legend_and_search(store, browser, tmp_path):
    graph, _ = viz.project(store)
    path = tmp_path / "graph.html"
    viz.render_html(graph, path, "kg: test graph")
    started = time.monotonic()
    opened = open_offline(browser, path)
    page = opened.page
    try:
        page.wait_for_selector("body[data-kg-ready]", timeout=60_000)
        assert page.locator("#kg-network canvas").count() == 1
        assert page.locator("#kg-legend").is_visible()
        assert "Weapon system" in page.inner_text("#kg-legend")
        tooltips = _hover(page, limit=6)
        assert any("mention" in text for text in tooltips)
        page.screenshot(path="/tmp/viz.png")
        page.fill("#kg-search", "s-400")
        page.press("#kg-search", "Enter")
        page.wait_for_selector("#kg-details:not([hidden])")
        assert "deployed S-400" in page.inner_text("#kg-details")
        assert page.evaluate("window.kgNetwork.getSelectedNodes()") == [_node(graph, "S-400")]
        page.fill("#kg-search", "no such thing")
        page.press("#kg-search", "Enter")
        assert "No node matches" in page.inner_text("#kg-status")
        assert opened.blocked == [] and opened.errors == [] and opened.dialogs == []
        assert _csp_violations(opened.console) == []
    finally:
        opened.close()
    assert time.monotonic() - started < 120   # a hang, not a timing assertion


@pytest.mark.browser
def test_viz_hostile_article_runs_nothing_and_shows_the_text(hostile_store, browser, tmp_path):
    graph, _ = viz.project(hostile_store)
    path = tmp_path / "hostile.html"
    viz.render_html(graph, path, f"kg: {ATTACK_SCRIPT}")
    opened = open_offline(browser, path)
    page = opened.page
    try:
        page.wait_for_selector("body[data-kg-ready]", timeout=60_000)
        hostile = {n for n, data in graph.nodes(data=True) if "__pwned" in repr(data)}
        assert len(hostile) >= 3
        tooltips = _hover(page, hostile)
        assert any(ATTACK_IMAGE in text for text in tooltips)        # the sentence, shown as text
        assert any(ATTACK_SCRIPT in text for text in tooltips)       # the headline
        for query in (ATTACK_SCRIPT, ATTACK_IMAGE, "Russian Armed Forces"):
            page.fill("#kg-search", query)
            page.press("#kg-search", "Enter")
        page.wait_for_selector("#kg-details:not([hidden])")
        details = page.inner_text("#kg-details")
        assert ATTACK_IMAGE in details and ATTACK_SCRIPT in details  # evidence sentence and headline
        assert ATTACK_SCRIPT in page.inner_text("#kg-title")
        page.wait_for_timeout(300)   # let any injected handler (there must be none) fire
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert opened.dialogs == [] and opened.errors == []
        injected = "#kg-details img, #kg-title img, div.vis-tooltip img, #kg-details script"
        assert page.locator(injected).count() == 0
        # The CSP would stop an injected script; a violation report would mean the escaping failed.
        assert _csp_violations(opened.console) == []
        assert opened.blocked == []
    finally:
        opened.close()
