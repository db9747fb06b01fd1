// The map's points as files: GeoJSON (RFC 7946) and CSV (RFC 4180), and their download.

// The facts of a point each file holds, in the CSV's column order.
export const COLUMNS = ["image_id", "label", "lat", "lon", "captured_at", "captured_at_local",
  "device_id", "gps_source", "prediction", "prediction_confidence", "model_version"];

export function geojsonOf(points) {
  return JSON.stringify({
    type: "FeatureCollection",
    features: points.map(function (point) {
      const properties = {};
      COLUMNS.filter((name) => name !== "lat" && name !== "lon")
        .forEach((name) => { properties[name] = point[name]; });
      return {
        type: "Feature",
        id: point.image_id,
        geometry: { type: "Point", coordinates: [point.lon, point.lat] },
        properties: properties,
      };
    }),
  }, null, 1);
}

// A spreadsheet runs a cell starting with one of these as a formula: such text gets a leading '.
const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value) {
  if (value == null) return "";
  let text = String(value);
  if (typeof value === "string" && FORMULA_START.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

export function csvOf(points) {
  const lines = [COLUMNS.join(",")].concat(
    points.map((point) => COLUMNS.map((name) => cell(point[name])).join(",")));
  return lines.join("\r\n") + "\r\n";
}

// Let the browser save `text` as the file `name`.
export function download(name, type, text) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: type }));
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}
