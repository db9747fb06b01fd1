// The review page: the queue's photos as cards; each is confirmed or corrected with one click
// (or the keys 1, 2, 3 on the first card) through PUT /images/<id>/label, "review": true.
"use strict";

const queueUrl = document.body.dataset.queueUrl;
const list = document.getElementById("queue");
const status = document.getElementById("status");
const REASONS = {
  uncertain: "The model hesitates",
  differs: "The prediction is not the label",
  unreviewed: "Not reviewed yet",
};

function percent(value) {
  return value == null ? "unknown" : Math.round(value * 100) + "%";
}

function button(text, key, onclick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.dataset.key = key;
  element.onclick = onclick;
  return element;
}

function card(item) {
  const li = document.createElement("li");
  li.className = "photo";
  li.dataset.imageId = item.image_id;
  const img = document.createElement("img");
  img.alt = "photo " + item.image_id.slice(0, 12);
  deviceToken.send(item.thumbnail).then((r) => (r.ok ? r.blob() : null)).then((blob) => {
    if (blob) img.src = URL.createObjectURL(blob);
  });
  const facts = document.createElement("div");
  facts.className = "facts";
  const reason = document.createElement("p");
  reason.className = "reason";
  reason.textContent = REASONS[item.reason];
  const what = document.createElement("p");
  what.textContent = `Predicted ${item.prediction} (${percent(item.prediction_confidence)}, ` +
    `margin ${percent(item.prediction_margin)}, model ${item.model_version}); ` +
    `labelled ${item.label || "nothing"}. Photo ${item.image_id.slice(0, 12)}`;
  facts.append(reason, what);
  const form = document.createElement("form");
  form.append(button("1 · " + item.prediction + " is right", "1",
                     () => review(li, item, item.prediction)));
  if (item.label && item.label !== item.prediction) {
    form.append(button("2 · " + item.label + " is right", "2",
                       () => review(li, item, item.label)));
  }
  const other = document.createElement("input");
  other.name = "crop";
  other.setAttribute("list", "crops");
  other.setAttribute("aria-label", "another crop");
  other.placeholder = "3 · another crop";
  other.pattern = "[a-z0-9_\\-]{1,64}";
  other.autocomplete = "off";
  form.append(other, button("Correct", "", () => other.value && review(li, item, other.value)));
  form.onsubmit = (event) => {
    event.preventDefault();
    if (other.value) review(li, item, other.value);
  };
  li.append(img, facts, form);
  return li;
}

async function review(li, item, label) {
  li.querySelectorAll("button, input").forEach((element) => (element.disabled = true));
  const response = await deviceToken.send(`/images/${item.image_id}/label`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ label: label.trim().toLowerCase(), review: true }),
  });
  const answer = await deviceToken.answerOf(response);
  if (deviceToken.refused(response, answer, load)) return;
  status.textContent = answer.message;
  if (!response.ok) {
    li.querySelectorAll("button, input").forEach((element) => (element.disabled = false));
    return;
  }
  li.remove();
  if (!list.children.length) load();
}

async function load() {
  if (!deviceToken.kept()) return deviceToken.ask(null, load);
  status.textContent = "Loading…";
  const response = await deviceToken.send(queueUrl + "?limit=20");
  const answer = await deviceToken.answerOf(response);
  if (deviceToken.refused(response, answer, load)) return;
  if (!response.ok) {
    status.textContent = answer.message;
    return;
  }
  list.replaceChildren(...answer.items.map(card));
  const crops = new Set(answer.items.flatMap((item) => [item.prediction, item.label]));
  document.getElementById("crops").replaceChildren(...[...crops].filter(Boolean).sort()
    .map((crop) => Object.assign(document.createElement("option"), { value: crop })));
  status.textContent = answer.waiting
    ? `${answer.waiting} predictions wait for a person; the most needing one is first.`
    : "Every prediction has been reviewed.";
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, dialog") || event.ctrlKey || event.metaKey || event.altKey) {
    return;
  }
  const first = list.firstElementChild;
  if (!first) return;
  if (event.key === "3") {
    event.preventDefault();
    first.querySelector("input").focus();
    return;
  }
  const target = first.querySelector(`button[data-key="${event.key}"]`);
  if (target && !target.disabled) target.click();
});

load();
