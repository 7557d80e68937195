// lib: shared by the browser tests (run by tests/integration/80-browser.sh):
// Debian's chromium through playwright-core, "ok - " / "not ok - " lines as
// tests/run.sh counts them, frames made and uploaded through POST /frames,
// and PNG pixels (frames are solid-colour PNGs so that what the page shows
// can be checked pixel by pixel).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

export const env = {
  base: process.env.BASE,            // http://127.0.0.1:PORT
  token: process.env.TOKEN,          // a valid admin token
  output: process.env.OUTPUT_DIR,    // where screenshots go
  server: process.env.STACK_SERVER || 'nginx',
};

let failed = 0;
export function ok(desc) {
  console.log(`ok - ${desc}`);
}
export function notOk(desc, detail) {
  failed++;
  console.log(`not ok - ${desc}`);
  if (detail !== undefined) console.log(`#   ${String(detail).split('\n').join('\n#   ')}`);
}
export function check(desc, cond, detail) {
  if (cond) ok(desc);
  else notOk(desc, detail);
  return cond;
}
export function expectEqual(desc, got, want) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  return check(desc, g === w, `got:  ${g}\nwant: ${w}`);
}

// Flags that work on this machine's closed network: without the
// background-networking ones Chromium's own connections are refused and it stalls.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

// A fresh browser (playwright gives each launch a new user-data-dir).
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    timeout: 60000,
  });
}

// A page whose object URLs are counted: window.objectUrls = {created, revoked}.
export async function countingPage(context) {
  const page = await context.newPage();
  await page.addInitScript(() => {
    const counts = { created: 0, revoked: 0 };
    const create = URL.createObjectURL.bind(URL), revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (o) => { counts.created++; return create(o); };
    URL.revokeObjectURL = (u) => { counts.revoked++; return revoke(u); };
    window.objectUrls = counts;
  });
  page.on('pageerror', (e) => notOk(`no uncaught error in the page (${page.url()})`, e.stack || e));
  return page;
}

// Waits (polling) until fn(arg) is true in the page: reports "ok - desc" and
// returns true, or reports "not ok - desc" with what the page showed.
export async function waitIn(page, desc, fn, arg, timeout = 15000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    ok(desc);
    return true;
  } catch (e) {
    notOk(desc, `timed out after ${timeout} ms; page says: ${await visibleText(page)}`);
    return false;
  }
}

export async function visibleText(page) {
  try {
    return (await page.evaluate(() => document.body.innerText)).replace(/\s+/g, ' ').slice(0, 600);
  } catch (e) {
    return `(no text: ${e.message})`;
  }
}

// Runs main() and turns a crash into a "not ok" line; exits 1 on any failure.
export async function run(name, main) {
  try {
    await main();
  } catch (e) {
    notOk(`${name} ran to the end`, e.stack || e);
  }
  process.exit(failed ? 1 : 0);
}

// --- frames ---------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

// A real (decodable) PNG of w x h pixels of one RGB colour.
export function solidPng(w, h, [r, g, b]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.alloc(1 + 3 * w);
  for (let x = 0; x < w; x++) row.set([r, g, b], 1 + 3 * x);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's
// screenshots are): {width, height, at(x, y) -> [r, g, b]}.
export function decodePng(buf) {
  let pos = 8, width = 0, height = 0, type = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos), kind = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (kind === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4); type = data[9];
      if (data[8] !== 8 || (type !== 2 && type !== 6) || data[12] !== 0) throw new Error('unsupported PNG');
    } else if (kind === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const bpp = type === 6 ? 4 : 3, stride = width * bpp;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? px[y * stride + i - bpp] : 0, b = y ? px[(y - 1) * stride + i] : 0;
      const c = i >= bpp && y ? px[(y - 1) * stride + i - bpp] : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + i] = (src[i] + pred) & 0xff;
    }
  }
  return { width, height, at: (x, y) => [...px.subarray(y * stride + x * bpp, y * stride + x * bpp + 3)] };
}

export function near(rgb, want, tolerance = 12) {
  return rgb.length >= 3 && want.every((v, i) => Math.abs(rgb[i] - v) <= tolerance);
}

// POST /frames as a camera pipeline does; throws unless the server stored it.
export async function upload({ label, key, png, width = '', height = '', detections = '', cones = '', poles = '', warnings = '', token = env.token }) {
  const form = new FormData();
  form.set('label', label);
  form.set('key', key);
  form.set('file', new Blob([png], { type: 'image/png' }), 'frame.png');
  if (width !== '') form.set('width', String(width));
  if (height !== '') form.set('height', String(height));
  form.set('detection_items_json', detections);
  form.set('cone_polygons_json', cones);
  form.set('pole_polygons_json', poles);
  form.set('warnings_json', warnings);
  const r = await fetch(`${env.base}/frames`, { method: 'POST', body: form, headers: { Authorization: `Bearer ${token}` } });
  if (r.status !== 200) throw new Error(`POST /frames ${label}/${key}: ${r.status} ${await r.text()}`);
}

// An HS256 access token with these claims, signed with the stack's secret.
export function mintToken(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iat: Math.floor(Date.now() / 1000), ...claims })}`;
  return `${data}.${crypto.createHmac('sha256', process.env.JWT_SECRET_KEY).update(data).digest('base64url')}`;
}

// What GET /labels answers for a token: {status, detail, labels}.
export async function labelsAnswer(token) {
  const r = await fetch(`${env.base}/labels`, { headers: { Authorization: `Bearer ${token}` } });
  const body = await r.json();
  return { status: r.status, detail: body.detail, labels: body.labels };
}

export function saveScreenshot(name, png) {
  fs.mkdirSync(env.output, { recursive: true });
  const file = path.join(env.output, name);
  fs.writeFileSync(file, png);
  return file;
}

// --- reading the page -----------------------------------------------------

// The colour at the centre of a view's image, read from the <img> itself.
export function imageColour(page, frameSelector) {
  return page.evaluate((sel) => {
    const img = document.querySelector(`${sel} img`);
    if (!img || !img.complete || !img.naturalWidth) return null;
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    return [...ctx.getImageData(c.width >> 1, c.height >> 1, 1, 1).data.slice(0, 3)];
  }, frameSelector);
}

// Polls cond() (an async function) until it is true: reports "ok - desc" and
// returns true, or "not ok - desc" with what cond last saw and what the page says.
export async function waitUntil(page, desc, cond, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await cond();
    } catch (e) {
      last = e.message;
    }
    if (last === true) {
      ok(desc);
      return true;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  notOk(desc, `timed out after ${timeout} ms; last seen: ${JSON.stringify(last)}; page says: ${await visibleText(page)}`);
  return false;
}

// Waits until a view's image has the colour wanted.
export function waitColour(page, desc, frameSelector, rgb, timeout = 15000) {
  let seen;
  return waitUntil(page, desc, async () => {
    seen = await imageColour(page, frameSelector);
    return (seen && near(seen, rgb, 2)) || seen;
  }, timeout);
}

// What the overlay canvas of a view holds, against the boxes expected (in
// image pixels, [x1, y1, x2, y2]): painted pixels outside all of them,
// painted pixels on each box's four edges, painted pixels in each box's
// interior (below its tag), and the canvas size.
export function overlayReport(page, frameSelector, boxes) {
  return page.evaluate(([sel, boxes]) => {
    const canvas = document.querySelector(`${sel} canvas`);
    const { width, height } = canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    const alpha = (x, y) => data[4 * (y * width + x) + 3];
    const inside = (x, y, [x1, y1, x2, y2], m) => x >= x1 - m && x < x2 + m && y >= y1 - m && y < y2 + m;
    let outside = 0, painted = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!alpha(x, y)) continue;
        painted++;
        if (!boxes.some((b) => inside(x, y, b, 1))) outside++;
      }
    }
    const edges = boxes.map(([x1, y1, x2, y2]) => {
      const mx = (x1 + x2) >> 1, my = (y1 + y2) >> 1;
      return [[x1, my], [x2 - 1, my], [mx, y2 - 1], [x2 - 3, y1]].filter(([x, y]) => alpha(x, y) > 200).length;
    });
    const interior = boxes.map(([x1, y1, x2, y2]) => {
      let n = 0;
      for (let y = y1 + 24; y < y2 - 4; y++) for (let x = x1 + 4; x < x2 - 4; x++) if (alpha(x, y)) n++;
      return n;
    });
    return { width, height, painted, outside, edges, interior };
  }, [frameSelector, boxes]);
}
