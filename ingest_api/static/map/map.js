// The live map: asks /map/points for the placed photos every REFRESH_MS and redraws them,
// coloured by label or by the model's prediction; shows a photo's record in the page, finds a
// photo by its id, and exports what the filters show.
import { csvOf, download, geojsonOf } from "./export.js";
import { recordView, takenAt } from "./record.js";

const REFRESH_MS = 10000;
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#17becf"];
const UNLABELLED_COLOUR = "#7f7f7f";

const element = document.getElementById("map");
const filters = document.getElementById("filters");
const colouring = document.getElementById("colouring");
const finder = document.getElementById("find");
const status = document.getElementById("status");
const notice = document.getElementById("notice");
const recordDialog = document.getElementById("record-dialog");
const map = L.map(element, { preferCanvas: false }).setView([20, 0], 2);
L.tileLayer(element.dataset.tileUrl, {
  attribution: element.dataset.tileAttribution, maxZoom: 19,
}).addTo(map);
const cluster = L.markerClusterGroup({ iconCreateFunction: clusterIcon }).addTo(map);
let framed = false;
let crops = [];
let shown = "";  // the answer drawn last: an unchanged one is not redrawn (open popups stay)
let drawn = null;  // that answer
let markers = new Map();  // image id -> its marker
let asked = 0;  // refreshes sent: only the newest one's answer is drawn
let colourBy = "label";  // or "prediction": the toggle

// A crop keeps its colour in both colourings: `crops` holds every label and prediction.
function colourOf(crop) {
  const index = crops.indexOf(crop);
  return index < 0 ? UNLABELLED_COLOUR : PALETTE[index % PALETTE.length];
}

// The crop a point is coloured and counted by, and its name in the legend.
function cropOf(point) {
  return colourBy === "prediction" ? point.prediction : point.label;
}

function legendName(point) {
  return cropOf(point) || (colourBy === "prediction" ? "not predicted" : "unlabelled");
}

// A cluster takes the colour of the crop most of its photos show.
function clusterIcon(group) {
  const counts = {};
  group.getAllChildMarkers().forEach(function (marker) {
    const crop = cropOf(marker.point);
    counts[crop] = (counts[crop] || 0) + 1;
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

// Say `message` in the bar; with `imageId`, offer that photo's record too.
function say(message, imageId) {
  notice.replaceChildren(message);
  if (!imageId) return;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "show its record";
  button.onclick = () => showRecord(imageId);
  notice.append(" ", button);
}

// The record of a photo, fetched with the token, in the page's dialog.
async function showRecord(imageId) {
  const title = document.getElementById("record-title");
  const body = document.getElementById("record-body");
  title.textContent = "Photo " + imageId.slice(0, 12) + "…";
  body.textContent = "loading its record…";
  if (!recordDialog.open) recordDialog.showModal();
  try {
    const [response, history] = await Promise.all([
      deviceToken.send("/images/" + imageId), deviceToken.send("/images/" + imageId + "/labels")]);
    const record = await deviceToken.answerOf(response);
    if (deviceToken.refused(response, record, refresh)) return;
    if (!response.ok) {
      body.textContent = record.message;
      return;
    }
    const corrections = history.ok ? (await history.json()).history : [];
    title.textContent = (record.label || "No label") + ", photo " + imageId.slice(0, 12) + "…";
    body.replaceChildren(recordView(record, corrections));
  } catch (error) {
    body.textContent = "the API cannot be reached; try again";
  }
}

// What the model said of the photo, and whether that is its label.
function predictionOf(point) {
  if (!point.prediction) return '<span class="prediction">not predicted</span>';
  const differs = point.label && point.prediction !== point.label;
  return '<span class="prediction' + (differs ? ' differs">' : '">') + "predicted " +
    text(point.prediction) + " (" + Math.round(100 * point.prediction_confidence) + " %, model " +
    "version " + text(point.model_version) + ")" + (differs ? ", not its label" : "") + "</span>";
}

function tooltipOf(point) {
  const label = point.label || "unlabelled";
  return text(point.prediction ? label + " · predicted " + point.prediction : label);
}

function popupOf(point) {
  const label = point.label || "unlabelled";
  return '<div class="popup"><img alt="thumbnail of ' + text(label) + '">' +
    '<b class="label">' + text(label) + "</b><br>" + predictionOf(point) + "<br>" +
    text(takenAt(point) || "capture time unknown") +
    "<br>device " + text(point.device_id || "unknown") +
    '<br><button type="button" class="show-record">record</button> <code>' +
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
      headers: { ...deviceToken.header(), "Content-Type": "application/json" },
      body: JSON.stringify({ label: form.elements.label.value.trim() }),
    });
    const answer = await response.json();
    if (!response.ok) {
      said.textContent = answer.message;
      return;
    }
    said.textContent = "now " + answer.label + " (was " + answer.previous_label + ")";
    marker.point.label = answer.label;
    marker.setStyle({ color: colourOf(cropOf(marker.point)) });
    marker.setTooltipContent(tooltipOf(marker.point));
    cluster.refreshClusters(marker);
    const popup = form.closest(".popup");
    popup.querySelector("b.label").textContent = answer.label;
    popup.querySelector(".prediction").outerHTML = predictionOf(marker.point);
  } catch (error) {
    said.textContent = "the API did not answer; try again";
  }
}

function openPopup(event) {
  const popup = event.popup.getElement();
  popup.querySelector(".show-record").onclick = () => showRecord(event.target.point.image_id);
  const form = popup.querySelector("form.correct");
  form.onsubmit = (submitted) => correctLabel(submitted, event.target);
  showThumbnail(event);
}

async function showThumbnail(event) {
  const img = event.popup.getElement().querySelector("img");
  if (!img || img.src) return;
  const response = await deviceToken.send(event.target.point.thumbnail);
  if (response.ok) img.src = URL.createObjectURL(await response.blob());
  else img.remove();
}

function drawLegend(counts) {
  document.getElementById("legend-title").textContent = "Crops by " + colourBy;
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
  const drawnMarkers = answer.points.map(function (point) {
    const name = legendName(point);
    counts[name] = (counts[name] || 0) + 1;
    const marker = L.circleMarker([point.lat, point.lon], {
      radius: 8, color: colourOf(cropOf(point)), fillOpacity: 0.85,
    }).bindPopup((layer) => popupOf(layer.point), { maxWidth: 240 })
      .bindTooltip(tooltipOf(point));
    marker.point = point;
    marker.on("popupopen", openPopup);
    return marker;
  });
  cluster.clearLayers();
  cluster.addLayers(drawnMarkers);
  markers = new Map(drawnMarkers.map((marker) => [marker.point.image_id, marker]));
  drawn = answer;
  drawLegend(counts);
  document.getElementById("no-gps").textContent = answer.without_gps +
    (answer.without_gps === 1 ? " photo has no GPS and is" : " photos have no GPS and are") +
    " not on the map" +
    (answer.truncated ? "; only the newest " + answer.points.length + " are drawn" : "");
  if (!framed && drawnMarkers.length) {
    map.fitBounds(cluster.getBounds(), { padding: [30, 30], maxZoom: 15 });
    framed = true;
  }
}

function filterQuery() {
  return new URLSearchParams(new FormData(filters));
}

async function refresh() {
  if (!deviceToken.kept()) return deviceToken.ask(null, refresh);
  const mine = ++asked;
  try {
    const response = await deviceToken.send(element.dataset.pointsUrl + "?" + filterQuery());
    const answer = await deviceToken.answerOf(response);
    if (mine !== asked || deviceToken.refused(response, answer, refresh)) return;
    if (!response.ok) {
      status.textContent = answer.message;
      return;
    }
    status.textContent = "";
    const text = JSON.stringify(answer);
    if (text !== shown) draw(answer);
    shown = text;
  } catch (error) {
    status.textContent = "the API cannot be reached; retrying every " + REFRESH_MS / 1000 + " s";
  }
}

// The search box: the photos whose id starts with what was typed; one on the map opens.
async function find(event) {
  event.preventDefault();
  const start = finder.elements.id.value.trim().toLowerCase();
  const whole = start.length === 64;
  let answer;
  try {
    const url = element.dataset.findUrl + "?id=" + encodeURIComponent(start);
    const response = await deviceToken.send(url);
    answer = await deviceToken.answerOf(response);
    if (deviceToken.refused(response, answer, refresh)) return;
    if (!response.ok) return say(answer.message);
  } catch (error) {
    return say("the API cannot be reached; try again");
  }
  if (answer.found === 0) {
    return say((whole ? "no photo has the id " : "no photo's id starts with ") + start +
      " (or it is not processed yet)");
  }
  if (answer.found > 1) {
    return say(answer.found + " photos' ids start with " + start + ": type more of the id");
  }
  const record = answer.records[0];
  const name = "photo " + record.image_id.slice(0, 12) + "… (" + (record.label || "no label") +
    ")";
  if (record.status !== "processed") {
    return say(name + " was rejected: " + record.message, record.image_id);
  }
  if (record.lat == null || record.lon == null) {
    return say(name + " has no GPS, so it is not on the map", record.image_id);
  }
  const marker = markers.get(record.image_id);
  if (!marker) {
    return say(name + " is not on the map: the filters hide it" + (drawn && drawn.truncated
      ? ", or it is older than the newest " + drawn.points.length + " drawn" : ""),
    record.image_id);
  }
  say("");
  cluster.zoomToShowLayer(marker, () => marker.openPopup());
}

// A file of the points the filters select now, as the map draws them (placed photos only).
async function exportShown(format) {
  if (!deviceToken.kept()) return deviceToken.ask(null, refresh);
  const query = filterQuery();
  let answer;
  try {
    const response = await deviceToken.send(element.dataset.pointsUrl + "?" + query);
    answer = await deviceToken.answerOf(response);
    if (deviceToken.refused(response, answer, refresh)) return;
    if (!response.ok) return say("not exported: " + answer.message);
  } catch (error) {
    return say("the API cannot be reached; try again");
  }
  const parts = ["photos"];
  query.forEach((value, name) => { if (value) parts.push(name + "-" + value); });
  const name = parts.join("_").replace(/[^A-Za-z0-9_.-]/g, "-") + "." + format;
  if (format === "csv") download(name, "text/csv", csvOf(answer.points));
  else download(name, "application/geo+json", geojsonOf(answer.points));
  const count = answer.points.length;
  say((count === 1 ? "1 photo" : count + " photos") + " saved as " + name +
    (answer.truncated ? ", the newest of the " + answer.placed + " that match" : "") +
    (answer.without_gps === 1 ? "; 1 without GPS is not in it" : "") +
    (answer.without_gps > 1 ? "; " + answer.without_gps + " without GPS are not in it" : ""));
}

filters.addEventListener("change", function () { framed = false; refresh(); });
colouring.addEventListener("change", function () {
  colourBy = colouring.elements.colour_by.value;
  if (drawn) draw(drawn);
});
filters.addEventListener("submit", function (event) { event.preventDefault(); refresh(); });
finder.addEventListener("submit", find);
document.querySelectorAll("#export button").forEach(function (button) {
  button.addEventListener("click", () => exportShown(button.dataset.format));
});
setInterval(refresh, REFRESH_MS);
refresh();
