// The upload page: sends each chosen photo to /post_image, then follows it until the pipeline
// has processed or rejected it, and shows what it made of it. A photo the dataset holds already
// is shown as such, with its record. Each photo taken in is also sent to /classify: the model's
// prediction shows next to its label, and a label correction sends it along as the prediction
// it overrules. The list of uploads is kept in localStorage, so it survives a reload.
"use strict";
(function () {
  // this page's list: [{key, name, imageId, state, message, sentAt, prediction}]
  const UPLOADS_KEY = "ingest_api.uploads";
  const MAX_KEPT = 50;
  const FIRST_POLL_MS = 1000;
  const MAX_POLL_MS = 10000;
  const GIVE_UP_MS = 15 * 60 * 1000;
  // A filter no photo matches: the answer's crops (every label processed so far) is all we want.
  const KNOWN_LABELS_URL = "/map/points?to=1970-01-01";

  const body = document.body.dataset;
  const form = document.getElementById("upload-form");
  const tokenInput = document.getElementById("token");
  const labelInput = document.getElementById("label");
  const shareBox = document.getElementById("share-position");
  const positionText = document.getElementById("position");
  const dropZone = document.getElementById("drop-zone");
  const picker = document.getElementById("file-picker");
  const photos = document.getElementById("photos");
  const announcer = document.getElementById("announcer");
  let position = null;  // {lat, lon} as text, once the person agreed to share it

  function announce(message) {
    announcer.textContent = message;
  }

  function authorisation() {
    return deviceToken.header(tokenInput.value.trim());
  }

  // An answer's JSON error message, or a sentence about the status when it has none.
  async function messageOf(response) {
    return (await deviceToken.answerOf(response)).message;
  }

  async function fillKnownLabels() {
    if (!tokenInput.value) return;
    try {
      const response = await fetch(KNOWN_LABELS_URL, { headers: authorisation() });
      if (!response.ok) return;
      const list = document.getElementById("known-labels");
      list.replaceChildren(...(await response.json()).crops.map((crop) => new Option(crop)));
    } catch (error) {
      // no suggestions: any label can still be typed
    }
  }

  function askPosition() {
    position = null;
    positionText.textContent = "";
    if (!shareBox.checked) return;
    positionText.textContent = "asking the browser for your position…";
    navigator.geolocation.getCurrentPosition(function (found) {
      position = { lat: found.coords.latitude.toFixed(6), lon: found.coords.longitude.toFixed(6) };
      positionText.textContent = "position " + position.lat + ", " + position.lon;
    }, function (error) {
      shareBox.checked = false;
      positionText.textContent = "no position: " + error.message;
    }, { enableHighAccuracy: true, timeout: 20000 });
  }

  function send(files) {
    if (!form.reportValidity()) return;
    Array.from(files).forEach(upload);
  }

  // The list of uploads as stored: newest first.
  function keptUploads() {
    try {
      const kept = JSON.parse(localStorage.getItem(UPLOADS_KEY) || "[]");
      return Array.isArray(kept) ? kept : [];
    } catch (error) {
      return [];
    }
  }

  // Store what the page knows of one photo's entry, newest first, at most MAX_KEPT of them.
  function keep(item) {
    const entry = {
      key: item.dataset.key, name: item.querySelector(".name").textContent,
      imageId: item.dataset.imageId || null, state: item.dataset.state,
      message: item.querySelector(".status").textContent, sentAt: Number(item.dataset.sentAt),
      prediction: item.dataset.prediction ? JSON.parse(item.dataset.prediction) : null,
    };
    const kept = keptUploads();
    const index = kept.findIndex((other) => other.key === entry.key);
    if (index === -1) kept.unshift(entry);
    else kept[index] = entry;
    localStorage.setItem(UPLOADS_KEY, JSON.stringify(kept.slice(0, MAX_KEPT)));
  }

  function newItem(name, key, sentAt) {
    const item = document.getElementById("photo-template").content.firstElementChild
      .cloneNode(true);
    item.querySelector(".name").textContent = name;
    item.dataset.key = key;
    item.dataset.sentAt = sentAt;
    return item;
  }

  // The list as it was before a reload: each photo's last status, then its record again.
  function restoreUploads() {
    keptUploads().forEach(function (entry) {
      const item = newItem(entry.name, entry.key, entry.sentAt);
      photos.append(item);
      item.dataset.state = entry.state;
      item.querySelector(".status").textContent = entry.message;
      if (entry.state === "uploading") {  // the page went away before the API answered
        item.dataset.state = "failed";
        item.querySelector(".status").textContent = entry.name +
          ": the page was closed before the upload ended; send it again";
        keep(item);
      }
      if (entry.prediction) showPrediction(item, entry.prediction);
      if (!entry.imageId) return;
      item.dataset.imageId = entry.imageId;
      item.querySelector("progress").value = 100;
      if (entry.state === "duplicate") showRecordOf(item, entry.name, entry.imageId);
      else if (entry.state !== "refused") {
        follow(item, entry.name, entry.imageId, 0, entry.sentAt);
      }
    });
  }

  // One photo: its list entry, its upload with progress, then its status.
  function upload(file) {
    const item = newItem(file.name, Date.now() + "-" + Math.random().toString(36).slice(2),
      Date.now());
    photos.prepend(item);
    const data = new FormData();
    data.append("file", file, file.name);
    if (labelInput.value.trim()) data.append("label", labelInput.value.trim());
    if (position) {
      data.append("lat", position.lat);
      data.append("lon", position.lon);
    }
    const request = new XMLHttpRequest();
    request.open("POST", "/post_image");
    request.setRequestHeader("Authorization", authorisation().Authorization);
    request.responseType = "json";
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        item.querySelector("progress").value = (100 * event.loaded) / event.total;
      }
    });
    request.addEventListener("load", function () { uploaded(item, file, request); });
    request.addEventListener("error", function () {
      setStatus(item, "failed", file.name + ": the API cannot be reached; try again");
    });
    setStatus(item, "uploading", file.name + ": uploading");
    request.send(data);
  }

  function uploaded(item, file, request) {
    item.querySelector("progress").value = 100;
    const answer = request.response || {};
    if (request.status === 200 && answer.status === "duplicate") {
      item.dataset.imageId = answer.image_id;
      classify(item, file);
      return showDuplicate(item, file.name, answer.record);
    }
    if (request.status !== 202) {
      const why = answer.message || "the server answered " + request.status;
      setStatus(item, "refused", file.name + " was refused: " + why);
      if (request.status === 401 || request.status === 403) tokenInput.focus();
      return;
    }
    item.dataset.imageId = answer.image_id;
    if (labelInput.value.trim()) item.dataset.label = labelInput.value.trim();
    classify(item, file);
    setStatus(item, "accepted", file.name + " was accepted; waiting for the pipeline");
    follow(item, file.name, answer.image_id, FIRST_POLL_MS, Date.now());
  }

  // The model's prediction for a photo taken in: POST /classify with the same file.
  async function classify(item, file) {
    const data = new FormData();
    data.append("file", file, file.name);
    const line = item.querySelector(".prediction");
    line.hidden = false;
    line.textContent = "Model: asking…";
    let response;
    try {
      response = await fetch("/classify", { method: "POST", headers: authorisation(), body: data });
    } catch (error) {
      line.textContent = "Model: the API cannot be reached";
      return;
    }
    if (!response.ok) {
      line.textContent = "Model: no prediction (" + await messageOf(response) + ")";
      return;
    }
    const answer = await response.json();
    showPrediction(item, { crop: answer.crop, confidence: answer.confidence,
      model: answer.model.name, version: answer.model.version });
    keep(item);
  }

  // "Model: maize (87 %), crop-classifier version 3", marked when it differs from the label.
  function showPrediction(item, prediction) {
    item.dataset.prediction = JSON.stringify(prediction);
    const line = item.querySelector(".prediction");
    line.hidden = false;
    line.textContent = "Model: " + prediction.crop + " (" +
      Math.round(100 * prediction.confidence) + " %), " + prediction.model + " version " +
      prediction.version;
    compare(item);
  }

  // Whether the model agrees with the photo's label, once both are known.
  function compare(item) {
    const line = item.querySelector(".prediction");
    if (!item.dataset.prediction || !item.dataset.label) return;
    const differs = JSON.parse(item.dataset.prediction).crop !== item.dataset.label;
    line.classList.toggle("differs", differs);
    line.querySelector(".verdict")?.remove();
    const verdict = document.createElement("span");
    verdict.className = "verdict";
    verdict.textContent = differs ? " — differs from the label" : " — agrees with the label";
    line.append(verdict);
  }

  function setStatus(item, state, message) {
    item.dataset.state = state;
    item.querySelector(".status").textContent = message;
    announce(message);
    keep(item);
  }

  // A photo the pipeline recorded before: what it holds, and the way to correct its label.
  function showDuplicate(item, name, record) {
    if (record.status !== "processed") {
      return setStatus(item, "rejected", name + " was sent before and rejected: " +
        record.message);
    }
    setStatus(item, "duplicate", name + " is already in the dataset — labelled " +
      (record.label || "nothing") + "; correct the label below if it is wrong");
    showRecord(item, name, record);
  }

  // A duplicate after a reload: its record as it is now.
  async function showRecordOf(item, name, imageId) {
    try {
      const response = await fetch("/images/" + imageId, { headers: authorisation() });
      if (response.ok) showRecord(item, name, await response.json());
    } catch (error) {
      // the API is unreachable: the entry keeps its last status
    }
  }

  // Ask for the photo's record until it is processed or rejected, waiting longer each time.
  async function follow(item, name, imageId, waitMs, startedAt) {
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    let response;
    try {
      response = await fetch("/images/" + imageId, { headers: authorisation() });
    } catch (error) {
      response = null;  // the API is unreachable for now: ask again later
    }
    if (response && response.ok) {
      const record = await response.json();
      if (record.status === "processed") return showProcessed(item, name, record);
      return setStatus(item, "rejected", name + " was rejected: " + record.message);
    }
    if (response && response.status !== 404 && response.status !== 503 &&
        response.status !== 429) {
      return setStatus(item, "failed", name + ": " + await messageOf(response));
    }
    if (Date.now() - startedAt > GIVE_UP_MS) {
      return setStatus(item, "failed", name + " is not processed yet; look for image " +
        imageId + " later");
    }
    follow(item, name, imageId, Math.min(Math.max(waitMs * 1.5, FIRST_POLL_MS), MAX_POLL_MS),
      startedAt);
  }

  function showProcessed(item, name, record) {
    setStatus(item, "processed", name + " was processed");
    showRecord(item, name, record);
  }

  // The result card: the record's facts, tensors, position and the label correction.
  function showRecord(item, name, record) {
    item.querySelector(".result").hidden = false;
    showDetails(item, record);
    showLabel(item, record.label);
    const tensors = item.querySelector(".tensors");
    (record.variants || []).forEach(function (variant) {  // none in records older than them
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.alt = variant === "base" ? "the 224×224 tensor of " + name
        : "augmented variant " + variant + " of " + name;
      img.width = 224;
      img.height = 224;
      const caption = document.createElement("figcaption");
      caption.textContent = variant;
      figure.append(img, caption);
      tensors.append(figure);
      showTensor(img, "/images/" + record.image_id + "/tensors/" + variant + ".png");
    });
    showPosition(item, record);
    item.querySelector("form.correct").addEventListener("submit", function (event) {
      event.preventDefault();
      correct(item, record.image_id, event.target);
    });
  }

  function showLabel(item, label) {
    item.querySelector(".record").textContent = "Label: " + (label || "none");
    if (label) item.dataset.label = label;
    else delete item.dataset.label;
    compare(item);
  }

  function showDetails(item, record) {
    const unknown = "unknown";
    item.querySelector(".captured-at").textContent = takenAt(record) || unknown;
    item.querySelector(".coordinates").textContent = record.lat == null || record.lon == null
      ? "none" : record.lat.toFixed(5) + ", " + record.lon.toFixed(5) +
        (record.gps_source ? " (" + record.gps_source + ")" : "");
    item.querySelector(".camera").textContent = record.camera || unknown;
    item.querySelector(".image-id").textContent = record.image_id;
  }

  // When the photo was taken: the UTC moment when its zone is known, else its local time, said
  // to be one (as the live map says it).
  function takenAt(record) {
    if (record.captured_at) return record.captured_at;
    return record.captured_at_local ? record.captured_at_local + " (local time, zone unknown)"
      : null;
  }

  // An <img> cannot send the token: fetch the PNG, then show it from a blob URL.
  async function showTensor(img, url) {
    const response = await fetch(url, { headers: authorisation() });
    if (response.ok) img.src = URL.createObjectURL(await response.blob());
    else img.replaceWith(document.createTextNode(await messageOf(response)));
  }

  function showPosition(item, record) {
    const element = item.querySelector(".small-map");
    if (record.lat == null || record.lon == null) {
      element.remove();
      item.querySelector(".no-gps").hidden = false;
      return;
    }
    const map = L.map(element).setView([record.lat, record.lon], 13);
    L.tileLayer(body.tileUrl, { attribution: body.tileAttribution, maxZoom: 19 }).addTo(map);
    L.circleMarker([record.lat, record.lon], { radius: 8, fillOpacity: 0.85 })
      .bindTooltip(record.lat.toFixed(5) + ", " + record.lon.toFixed(5) +
        " (" + record.gps_source + ")")
      .addTo(map);
  }

  // The prediction this page showed, as a label correction names the one it overrules.
  function shownPrediction(item) {
    if (!item.dataset.prediction) return null;
    const shown = JSON.parse(item.dataset.prediction);
    return { crop: shown.crop, confidence: shown.confidence, model_version: shown.version };
  }

  async function correct(item, imageId, correction) {
    const note = correction.elements.note.value.trim();
    const result = correction.querySelector(".correction");
    result.textContent = "sending…";
    let response;
    try {
      response = await fetch("/images/" + imageId + "/label", {
        method: "PUT",
        headers: { ...authorisation(), "Content-Type": "application/json" },
        body: JSON.stringify({ label: correction.elements.label.value.trim(), note: note || null,
          prediction: shownPrediction(item) }),
      });
    } catch (error) {
      result.textContent = "the API cannot be reached; try again";
      return;
    }
    if (!response.ok) {
      result.textContent = "not corrected: " + await messageOf(response);
      return;
    }
    const answer = await response.json();
    showLabel(item, answer.label);
    result.textContent = answer.changed === false
      ? "already labelled " + answer.label + ": nothing changed"
      : "corrected from " + (answer.previous_label || "none") + " to " + answer.label;
    announce(result.textContent);
  }

  tokenInput.value = deviceToken.kept() || "";
  tokenInput.addEventListener("change", function () {
    deviceToken.keep(tokenInput.value);
    fillKnownLabels();
  });
  restoreUploads();
  shareBox.addEventListener("change", askPosition);
  picker.addEventListener("change", function () {
    send(picker.files);
    picker.value = "";
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  ["dragenter", "dragover"].forEach((type) => dropZone.addEventListener(type, function (event) {
    event.preventDefault();
    dropZone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => dropZone.addEventListener(type, function () {
    dropZone.classList.remove("over");
  }));
  dropZone.addEventListener("drop", function (event) {
    event.preventDefault();
    send(event.dataTransfer.files);
  });
  fillKnownLabels();
})();
