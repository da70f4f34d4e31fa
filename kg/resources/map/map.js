// The page script of kg.mapviz.render_html: country outlines, one circle per place, popups, the list
// of places not on the map. Every string in the data comes from news articles and is untrusted: it is
// read with JSON.parse and shown only through textContent, never as HTML. Leaflet gets DOM elements
// for popups and tooltips (a string would be set as innerHTML).
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("kg-data").textContent);
  var countries = JSON.parse(document.getElementById("kg-countries").textContent);

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  // The events of one place, element by element: type, number, time, article and evidence.
  function describe(place) {
    var box = el("div", "kg-pop");
    box.appendChild(el("div", "kg-pop-label", place.label));
    var kind = [place.subtype, plural(place.events, "event")].filter(Boolean).join(" · ");
    var types = place.types.map(function (pair) { return pair[0] + " " + pair[1]; }).join(", ");
    box.appendChild(el("div", "kg-pop-kind", kind + (types ? " (" + types + ")" : "")));
    if (place.approximate) box.appendChild(el("div", "kg-pop-kind", "drawn at the country's centre"));
    var list = el("ul", "kg-pop-events");
    place.listed.forEach(function (event) {
      var item = el("li", "kg-pop-event");
      var head = el("div", "kg-pop-head");
      var dot = el("span", "kg-pop-dot");
      dot.style.backgroundColor = event.colour;
      head.appendChild(dot);
      head.appendChild(el("span", "kg-pop-type", event.type));
      if (event.quantity !== null) head.appendChild(el("span", "kg-pop-detail", "· " + event.quantity));
      if (event.time) head.appendChild(el("span", "kg-pop-detail", "· " + event.time));
      item.appendChild(head);
      item.appendChild(el("div", "kg-pop-source",
                          "— " + event.article + (event.published ? " (" + event.published + ")" : "")));
      event.evidence.forEach(function (sentence) {
        item.appendChild(el("blockquote", "kg-pop-quote", sentence));
      });
      list.appendChild(item);
    });
    box.appendChild(list);
    if (place.events > place.listed.length) {
      box.appendChild(el("div", "kg-pop-more", "+" + (place.events - place.listed.length)
                         + " more events (query them with: kg query events)"));
    }
    return box;
  }

  // Places without coordinates: the page lists them under the map; their events open in place.
  document.querySelectorAll("#kg-unlocated details[data-place]").forEach(function (details) {
    var place = data.places[Number(details.getAttribute("data-place"))];
    if (place) details.querySelector(".kg-place-body").appendChild(describe(place));
  });

  var map = L.map("kg-map", { attributionControl: false, minZoom: 1, maxZoom: 12, zoomSnap: 0.25,
                              worldCopyJump: false });
  window.kgMap = map;   // for tests and for the browser console
  var located = data.places.filter(function (p) { return p.lat !== null && p.lon !== null; });
  // The view comes first: Leaflet clips vectors to the view, so layers added before it fail.
  if (located.length) {
    var bounds = L.latLngBounds(located.map(function (p) { return [p.lat, p.lon]; }));
    map.fitBounds(bounds.pad(0.15), { padding: [30, 30], maxZoom: 6 });
  } else {
    map.setView([25, 10], 2);
    var empty = el("p", null, "No place with coordinates has events: nothing to mark.");
    empty.id = "kg-empty";
    document.getElementById("kg-map").appendChild(empty);
  }

  // Countries name themselves on hover (there are no tiles, so no other labels); markers stay on top.
  L.geoJSON(countries, {
    style: { className: "kg-country", color: "#9aa3ad", weight: 0.7, fillColor: "#f7f5ef", fillOpacity: 1 },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(el("span", "kg-country-tip", feature.properties.name), { sticky: true, direction: "right",
                                                                                 offset: [12, 0], opacity: 0.85 });
    }
  }).addTo(map);

  // Big circles first, so that small ones stay clickable on top of them.
  located.sort(function (a, b) { return b.radius - a.radius; });
  var markers = located.map(function (place) {
    var marker = L.circleMarker([place.lat, place.lon], {
      className: "kg-marker", radius: place.radius, color: place.approximate ? "#333333" : "#ffffff",
      weight: place.approximate ? 1.5 : 1, dashArray: place.approximate ? "3 3" : null,
      fillColor: place.colour, fillOpacity: 0.78
    });
    marker.bindPopup(describe(place), { maxWidth: 420, minWidth: 240, maxHeight: 360, autoPanPadding: [20, 20] });
    marker.bindTooltip(el("span", "kg-tip", place.label + " · " + plural(place.events, "event")), { direction: "top" });
    marker.addTo(map);
    // The path's data attributes name the place for tests; set as attributes, never parsed as HTML.
    var path = marker.getElement();
    if (path) {
      path.setAttribute("data-kg-place", place.label);
      path.setAttribute("data-kg-events", String(place.events));
    }
    return marker;
  });
  window.kgMarkers = markers;

  document.body.setAttribute("data-kg-ready", "1");
})();
