// overlay: the detections of a frame header (detection_items, cone_polygons,
// pole_polygons; JSON text inside strings) as shapes in the image's own
// pixels, and drawing them on the canvas over the image. The geometry is
// pure so that node can test it (tests/browser/unit/).

// JSON text from a header field, or undefined when it is empty or malformed:
// a camera's bad metadata draws nothing and breaks nothing.
export function parseJsonText(text) {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

// A header's width/height are decimal strings, "0" or "" when unknown.
function headerSize(header) {
  const w = Number.parseInt(header?.width, 10), h = Number.parseInt(header?.height, 10);
  return w > 0 && h > 0 ? { w, h } : null;
}

// Maps coordinates to image pixels: 0..1 fractions of the image, or pixels
// of the header's width x height (the size the detector saw), or, when the
// header gives none, pixels of the image itself.
function scaler(header, naturalW, naturalH) {
  const size = headerSize(header);
  const sx = size ? naturalW / size.w : 1, sy = size ? naturalH / size.h : 1;
  return (coords) => {
    const fractional = coords.every((v) => v >= 0 && v <= 1);
    return coords.map((v, i) => v * (fractional ? (i % 2 ? naturalH : naturalW) : (i % 2 ? sy : sx)));
  };
}

function firstNumber(obj, names) {
  for (const n of names) if (finite(obj[n])) return obj[n];
  return undefined;
}

// [x1, y1, x2, y2] from the bbox shapes detectors write: a list, or an
// object with corners (x1/y1/x2/y2, xmin/..., left/top/right/bottom) or a
// corner and a size (x/y/width/height, x/y/w/h).
function bboxCorners(bbox) {
  if (Array.isArray(bbox)) return bbox.length >= 4 && bbox.slice(0, 4).every(finite) ? bbox.slice(0, 4) : null;
  if (!bbox || typeof bbox !== 'object') return null;
  const corners = [['x1', 'y1', 'x2', 'y2'], ['xmin', 'ymin', 'xmax', 'ymax'], ['left', 'top', 'right', 'bottom']];
  for (const names of corners) {
    const c = names.map((n) => bbox[n]);
    if (c.every(finite)) return c;
  }
  const x = bbox.x, y = bbox.y, w = firstNumber(bbox, ['width', 'w']), h = firstNumber(bbox, ['height', 'h']);
  return [x, y, w, h].every(finite) ? [x, y, x + w, y + h] : null;
}

function className(value) {
  if (typeof value === 'string' && value !== '') return value;
  if (finite(value)) return `class ${value}`;
  return 'object';
}

// One detection: [x1, y1, x2, y2, confidence, class] or
// {"bbox": ..., "class_name": ..., "confidence": ...}; null if unusable.
function detection(item) {
  if (Array.isArray(item)) {
    const c = item.slice(0, 4);
    if (c.length < 4 || !c.every(finite)) return null;
    return { coords: c, confidence: item[4], label: className(item[5]) };
  }
  if (!item || typeof item !== 'object') return null;
  const c = bboxCorners(item.bbox ?? item.box);
  if (!c) return null;
  const cls = item.class_name ?? item.name ?? item.label ?? item.class ?? item.class_id;
  return { coords: c, confidence: item.confidence ?? item.score ?? item.conf, label: className(cls) };
}

function point(p) {
  if (Array.isArray(p) && p.length >= 2 && finite(p[0]) && finite(p[1])) return [p[0], p[1]];
  if (p && typeof p === 'object' && finite(p.x) && finite(p.y)) return [p.x, p.y];
  return null;
}

function polygonPoints(poly) {
  const pts = Array.isArray(poly) ? poly : poly?.points ?? poly?.polygon ?? poly?.coordinates;
  if (!Array.isArray(pts)) return null;
  const out = pts.map(point);
  return out.length >= 3 && out.every(Boolean) ? out : null;
}

// A list of polygons, or one polygon given as a list of points.
function polygonList(value) {
  if (!Array.isArray(value)) return [];
  if (value.length && point(value[0])) value = [value];
  return value.map(polygonPoints).filter(Boolean);
}

const POLYGON_KINDS = [
  { field: 'cone_polygons', label: 'cone area', colour: '#ff8c00' },
  { field: 'pole_polygons', label: 'pole area', colour: '#00b7ff' },
];

const PALETTE = ['#ffe600', '#ff3b8d', '#34e07a', '#b26bff', '#ff5a36', '#00e5d4', '#ffffff', '#9cff3b'];

// The same class gets the same colour on every tile and every frame.
export function classColour(label) {
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

function confidenceText(c) {
  if (!finite(c)) return '';
  return c >= 0 && c <= 1 ? ` ${Math.round(c * 100)}%` : ` ${c}`;
}

// shapesFor(header, naturalW, naturalH): what to draw over an image of that
// natural size, in its pixels:
//   { boxes: [{x1, y1, x2, y2, label, text, colour}], polygons: [{points, label, colour}],
//     legend: [{label, colour}] }
export function shapesFor(header, naturalW, naturalH) {
  const scale = scaler(header, naturalW, naturalH);
  const boxes = [], polygons = [], legend = new Map();
  const items = parseJsonText(header?.detection_items);
  for (const item of Array.isArray(items) ? items : []) {
    const d = detection(item);
    if (!d) continue;
    const [a, b, c, e] = scale(d.coords);
    const colour = classColour(d.label);
    boxes.push({ x1: Math.min(a, c), y1: Math.min(b, e), x2: Math.max(a, c), y2: Math.max(b, e),
      label: d.label, text: d.label + confidenceText(d.confidence), colour });
    legend.set(d.label, colour);
  }
  for (const kind of POLYGON_KINDS) {
    for (const pts of polygonList(parseJsonText(header?.[kind.field]))) {
      const flat = scale(pts.flat());
      const points = pts.map((_, i) => [flat[2 * i], flat[2 * i + 1]]);
      polygons.push({ points, label: kind.label, colour: kind.colour });
      legend.set(kind.label, kind.colour);
    }
  }
  return { boxes, polygons, legend: [...legend].map(([label, colour]) => ({ label, colour })) };
}

// Line and tag sizes on screen, in CSS pixels, whatever the image's size.
const LINE_CSS = 2;
const FONT_CSS = 12;

// Draws shapes on a canvas that covers the image exactly (CSS) and has the
// image's natural size as its own, so shapes stay in image pixels. An empty
// shape list clears what the previous frame drew.
export function drawShapes(canvas, shapes, naturalW, naturalH) {
  if (canvas.width !== naturalW || canvas.height !== naturalH) {
    canvas.width = naturalW;
    canvas.height = naturalH;
  }
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  // Image pixels per CSS pixel (1 while the view is hidden and has no size).
  const perCss = canvas.clientWidth ? naturalW / canvas.clientWidth : 1;
  const line = Math.max(1, Math.round(LINE_CSS * perCss));
  ctx.lineWidth = line;
  ctx.lineJoin = 'round';
  for (const p of shapes.polygons) {
    ctx.beginPath();
    p.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.fillStyle = p.colour + '33';
    ctx.strokeStyle = p.colour;
    ctx.fill();
    ctx.stroke();
  }
  const font = Math.max(6, Math.round(FONT_CSS * perCss));
  ctx.font = `${font}px sans-serif`;
  ctx.textBaseline = 'top';
  for (const b of shapes.boxes) {
    ctx.strokeStyle = b.colour;
    // Inside the line's own half so that the box covers exactly x1..x2, y1..y2.
    ctx.strokeRect(b.x1 + line / 2, b.y1 + line / 2, b.x2 - b.x1 - line, b.y2 - b.y1 - line);
    // The tag sits inside the box's top-left corner, clipped to the box.
    const w = Math.min(ctx.measureText(b.text).width + 2 * line, b.x2 - b.x1);
    const h = Math.min(font + line, b.y2 - b.y1);
    ctx.save();
    ctx.beginPath();
    ctx.rect(b.x1, b.y1, w, h);
    ctx.clip();
    ctx.fillStyle = b.colour;
    ctx.fillRect(b.x1, b.y1, w, h);
    ctx.fillStyle = '#000';
    ctx.fillText(b.text, b.x1 + line, b.y1 + line / 2);
    ctx.restore();
  }
}
