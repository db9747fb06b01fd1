// A photo's record (GET /images/<id>) and its label corrections, as rows a person reads.

// [field, what a person calls it, how its value reads (the plain value when not given)], in the
// order the rows show. A field the record has and this list lacks still shows, under its name.
const ROWS = [
  ["label", "Crop", (record) => record.label || "no label"],
  ["prediction", "Predicted crop", predicted],
  ["prediction_lineage", "Prediction made by", madeBy],
  ["status", "Status", (record) =>
    record.status === "rejected" ? "rejected: " + record.message : record.status],
  ["captured_at", "Taken at", takenAt],
  ["lat", "Position", position],
  ["altitude", "Altitude", (record) => unit(record.altitude, " m")],
  ["camera", "Camera"],
  ["device_id", "Sent by device"],
  ["format", "Original", original],
  ["colour_profile", "Colour profile"],
  ["orientation", "EXIF orientation"],
  ["split", "Dataset split"],
  ["variants", "Tensors"],
  ["sharpness", "Sharpness", (record) => rounded(record.sharpness, 1)],
  ["brightness", "Brightness (0-1)", (record) => rounded(record.brightness, 3)],
  ["clipped_fraction", "Pixels at black or white", (record) =>
    record.clipped_fraction == null ? null : rounded(100 * record.clipped_fraction, 2) + " %"],
  ["duplicate_group", "Near-duplicate group", (record) =>
    record.duplicate_group === record.image_id ? "its own" : record.duplicate_group],
  ["phash", "Perceptual hash"],
  ["processed_at", "Processed at"],
  ["raw_key", "Original bytes at"],
  ["shard_key", "Tensors in shard"],
  ["image_id", "Image id"],
];
// Fields shown within another row.
const SHOWN_WITHIN = ["reason", "message", "captured_at_local", "lon", "gps_source", "width",
  "height", "size_bytes", "prediction_confidence", "model_version"];
const GPS_SOURCES = { exif: "from the photo's EXIF", client: "sent with the upload" };

// When the photo was taken: the UTC moment (and the local time) when its zone is known, else the
// local time, said to be one (it is no UTC time); null when neither is known.
export function takenAt(record) {
  const local = record.captured_at_local;
  if (record.captured_at) {
    return record.captured_at + (local ? " (local time " + local + ")" : "");
  }
  return local ? local + " (local time, zone unknown)" : null;
}

// The model's answer: its crop, how sure, which version; whether it is the label.
function predicted(record) {
  if (record.status !== "processed") return null;
  if (!record.prediction) return "none: no model had predicted it";
  return record.prediction + " (" + rounded(100 * record.prediction_confidence, 1) +
    " % confident, model version " + record.model_version + ")" +
    (record.label && record.label !== record.prediction ? ", not its label" : "");
}

// Where the prediction comes from: the MLflow run and the data it was trained on.
function madeBy(record) {
  const lineage = record.prediction_lineage;
  if (!lineage) return null;
  return lineage.model_name + " version " + lineage.model_version + " (MLflow run " +
    lineage.mlflow_run_id + "), trained on snapshot " + lineage.snapshot + " of " +
    lineage.dataset_root + " (Delta version " + lineage.delta_version + ")";
}

function position(record) {
  if (record.lat == null || record.lon == null) {
    return "none: the photo had no GPS and none was sent";
  }
  return record.lat.toFixed(6) + ", " + record.lon.toFixed(6) + " (" +
    (GPS_SOURCES[record.gps_source] || record.gps_source) + ")";
}

function original(record) {
  const parts = [record.format];
  if (record.width != null) parts.push(record.width + " × " + record.height + " pixels");
  if (record.size_bytes != null) parts.push(rounded(record.size_bytes / 1e6, 2) + " MB");
  return parts.filter((part) => part != null).join(", ") || null;
}

function unit(value, suffix) {
  return value == null ? null : value + suffix;
}

function rounded(value, digits) {
  return value == null ? null : String(Number(value.toFixed(digits)));
}

function readable(value) {
  if (value == null) return null;
  return Array.isArray(value) ? value.join(", ") : String(value);
}

// The rows of `record`: [name, text], leaving out the facts nobody knows.
export function recordRows(record) {
  const listed = new Set([...ROWS.map((row) => row[0]), ...SHOWN_WITHIN]);
  const rows = ROWS.filter(([field]) => field in record)
    .map(([field, name, reads]) => [name, reads ? reads(record) : readable(record[field])]);
  Object.keys(record).filter((field) => !listed.has(field)).forEach(function (field) {
    rows.push([field.replace(/_/g, " "), readable(record[field])]);
  });
  return rows.filter((row) => row[1] != null && row[1] !== "");
}

// The record as a definition list, its corrections, and every field as JSON for copying.
export function recordView(record, history) {
  const view = document.createDocumentFragment();
  const list = document.createElement("dl");
  recordRows(record).forEach(function ([name, text]) {
    const term = document.createElement("dt");
    term.textContent = name;
    const value = document.createElement("dd");
    value.textContent = text;
    list.append(term, value);
  });
  view.append(list);
  if (history && history.length) {
    const heading = document.createElement("h3");
    heading.textContent = "Label corrections";
    const entries = document.createElement("ol");
    entries.className = "corrections";
    history.forEach(function (entry) {
      const item = document.createElement("li");
      item.textContent = (entry.old_label || "no label") + " → " + entry.new_label + ", " +
        entry.corrected_at + " by " + (entry.device_id || "an unknown device") +
        (entry.note ? ": " + entry.note : "");
      entries.append(item);
    });
    view.append(heading, entries);
  }
  const raw = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Every field, as JSON";
  const json = document.createElement("pre");
  json.textContent = JSON.stringify(record, null, 2);
  raw.append(summary, json);
  view.append(raw);
  return view;
}
