// The live map: asks /map/points for the placed photos every REFRESH_MS and redraws them.
"use strict";
(function () {
  const REFRESH_MS = 10000;
  const TOKEN_KEY = "ingest_api.token";  // shared with the upload page
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#17becf"];
  const UNLABELLED_COLOUR = "#7f7f7f";

  const element = document.getElementById("map");
  const filters = document.getElementById("filters");
  const status = document.getElementById("status");
  const map = L.map(element, { preferCanvas: false }).setView([20, 0], 2);
  L.tileLayer(element.dataset.tileUrl, {
    attribution: element.dataset.tileAttribution, maxZoom: 19,
  }).addTo(map);
  const cluster = L.markerClusterGroup({ iconCreateFunction: clusterIcon }).addTo(map);
  let framed = false;
  let crops = [];
  let shown = "";  // the answer drawn last: an unchanged one is not redrawn (open popups stay)

  function colourOf(label) {
    const index = crops.indexOf(label);
    return index < 0 ? UNLABELLED_COLOUR : PALETTE[index % PALETTE.length];
  }

  // A cluster takes the colour of the crop most of its photos show.
  function clusterIcon(group) {
    const counts = {};
    group.getAllChildMarkers().forEach(function (marker) {
      counts[marker.point.label] = (counts[marker.point.label] || 0) + 1;
    });
    const label = Object.keys(counts).reduce((a, b) => (counts[b] > counts[a] ? b : a));
    const colour = colourOf(label === "null" ? null : label);
    return L.divIcon({
      html: '<div style="background:' + colour + '"><span>' + group.getChildCount() +
        "</span></div>",
      className: "marker-cluster crop-cluster",
      iconSize: L.point(40, 40),
    });
  }

  function text(value) {
    const span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span.innerHTML;
  }

  function authorised(url) {
    return fetch(url, { headers: { Authorization: "Bearer " + localStorage.getItem(TOKEN_KEY) } });
  }

  function askToken() {
    const dialog = document.getElementById("token-dialog");
    if (dialog.open) return;
    dialog.showModal();
    dialog.addEventListener("close", function () {
      localStorage.setItem(TOKEN_KEY, dialog.querySelector("input").value.trim());
      refresh();
    }, { once: true });
  }

  function popupOf(point) {
    const label = point.label || "unlabelled";
    return '<div class="popup"><img alt="thumbnail of ' + text(label) + '">' +
      "<b>" + text(label) + "</b><br>" + text(point.captured_at || "capture time unknown") +
      "<br>device " + text(point.device_id || "unknown") +
      '<br><a href="' + text(point.record) + '" target="_blank">record</a> <code>' +
      text(point.image_id) + "</code>" +
      '<form class="correct"><input name="label" list="crop-labels" required size="10" ' +
      'placeholder="new label" aria-label="new label"><button>Correct</button>' +
      '<output role="status"></output></form></div>';
  }

  // The popup's form: PUT <record>/label, then say what happened and recolour the marker.
  async function correctLabel(event, marker) {
    event.preventDefault();
    const form = event.target;
    const said = form.querySelector("output");
    try {
      const response = await fetch(marker.point.record + "/label", {
        method: "PUT",
        headers: { Authorization: "Bearer " + localStorage.getItem(TOKEN_KEY),
          "Content-Type": "application/json" },
        body: JSON.stringify({ label: form.elements.label.value.trim() }),
      });
      const answer = await response.json();
      if (!response.ok) {
        said.textContent = answer.message;
        return;
      }
      said.textContent = "now " + answer.label + " (was " + answer.previous_label + ")";
      marker.point.label = answer.label;
      marker.setStyle({ color: colourOf(answer.label) });
      marker.setTooltipContent(text(answer.label));
      cluster.refreshClusters(marker);
      form.closest(".popup").querySelector("b").textContent = answer.label;
    } catch (error) {
      said.textContent = "the API did not answer; try again";
    }
  }

  function openPopup(event) {
    const form = event.popup.getElement().querySelector("form.correct");
    form.onsubmit = (submitted) => correctLabel(submitted, event.target);
    showThumbnail(event);
  }

  async function showThumbnail(event) {
    const img = event.popup.getElement().querySelector("img");
    if (!img || img.src) return;
    const response = await authorised(event.target.point.thumbnail);
    if (response.ok) img.src = URL.createObjectURL(await response.blob());
    else img.remove();
  }

  function drawLegend(counts) {
    document.getElementById("legend-entries").innerHTML = Object.keys(counts).sort().map(
      (label) => '<div class="legend-entry"><span class="swatch" style="background:' +
        colourOf(label) + '"></span>' + text(label) + " (" + counts[label] + ")</div>"
    ).join("") || "<div>no photos with GPS</div>";
  }

  function fillCropFilter() {
    const select = filters.elements.crop;
    const known = Array.from(select.options).map((option) => option.value);
    crops.filter((crop) => !known.includes(crop)).forEach(function (crop) {
      select.add(new Option(crop, crop));
    });
    document.getElementById("crop-labels").replaceChildren(
      ...crops.map((crop) => new Option(crop)));
  }

  function draw(answer) {
    crops = answer.crops;
    fillCropFilter();
    const counts = {};
    const markers = answer.points.map(function (point) {
      const label = point.label || "unlabelled";
      counts[label] = (counts[label] || 0) + 1;
      const marker = L.circleMarker([point.lat, point.lon], {
        radius: 8, color: colourOf(point.label), fillOpacity: 0.85,
      }).bindPopup((layer) => popupOf(layer.point), { maxWidth: 240 }).bindTooltip(text(label));
      marker.point = point;
      marker.on("popupopen", openPopup);
      return marker;
    });
    cluster.clearLayers();
    cluster.addLayers(markers);
    drawLegend(counts);
    document.getElementById("no-gps").textContent = answer.without_gps +
      (answer.without_gps === 1 ? " photo has no GPS and is" : " photos have no GPS and are") +
      " not on the map" +
      (answer.truncated ? "; only the newest " + answer.points.length + " are drawn" : "");
    if (!framed && markers.length) {
      map.fitBounds(cluster.getBounds(), { padding: [30, 30], maxZoom: 15 });
      framed = true;
    }
  }

  async function refresh() {
    if (!localStorage.getItem(TOKEN_KEY)) return askToken();
    const query = new URLSearchParams(new FormData(filters));
    try {
      const response = await authorised(element.dataset.pointsUrl + "?" + query);
      const answer = await response.json();
      if (response.status === 401 || response.status === 403) {
        localStorage.removeItem(TOKEN_KEY);
        return askToken();
      }
      if (!response.ok) {
        status.textContent = answer.message;
        return;
      }
      status.textContent = "";
      const drawn = JSON.stringify(answer);
      if (drawn !== shown) draw(answer);
      shown = drawn;
    } catch (error) {
      status.textContent = "the API cannot be reached; retrying every " + REFRESH_MS / 1000 + " s";
    }
  }

  filters.addEventListener("change", function () { framed = false; refresh(); });
  filters.addEventListener("submit", function (event) { event.preventDefault(); refresh(); });
  setInterval(refresh, REFRESH_MS);
  refresh();
})();
