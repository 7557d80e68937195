// soak: SOAK_SECONDS (120) of three cameras at 10 fps each, watched by a
// wall and by a camera view (80-browser.sh runs it behind nginx only). After
// a forced garbage collection neither page's JS heap grows from the end of
// the warm-up to the end, each holds one object URL per image on screen,
// its DOM does not grow, and the label list has been refreshed by itself.
import { check, countingPage, env, launch, ok, run, solidPng, upload, waitIn } from './lib.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS || 120);
const FPS = 10;
// Heap figures settle once V8 has compiled and optimised the page's code.
const WARMUP_MS = Math.min(30000, SECONDS * 250);
const CAMS = ['cam1', 'cam2', 'cam3'];
const LABEL = 'soak';
// Allowed growth after a forced GC, of the JS heap and of ArrayBuffer
// storage each: a leak of ~100 bytes per frame on the wall (2,700 frames
// after the warm-up) is above it; measured here: 10-40 KB.
const SLACK = 256 * 1024;
const COLOURS = [[200, 40, 40], [40, 150, 60], [50, 60, 200], [230, 200, 30], [140, 50, 160]];
const frames = COLOURS.map((c) => solidPng(320, 240, c));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sendTick(k) {
  return Promise.all(CAMS.map((key, i) => {
    const x = (k * 4 + i * 40) % 500;  // the box moves: every frame draws something new
    return upload({ label: LABEL, key, png: frames[(k + i) % frames.length], width: 640, height: 480,
      detections: JSON.stringify([[x, 100, x + 120, 300, 0.8, 'person'], { bbox: { x1: 0.1, y1: 0.1, x2: 0.3, y2: 0.4 }, class_name: 'helmet', confidence: 0.6 }]),
      cones: '[[[10, 400], [200, 400], [100, 300]]]', warnings: `["Worker near machinery (${k % 20})"]` });
  }));
}

// Sends frames at FPS until `until`, on schedule even when an upload is
// slow (up to 5 ticks in flight); returns how many ticks went out.
async function produce(until) {
  const t0 = Date.now(), flying = [];
  let k = 0;
  while (Date.now() < until) {
    if (flying.length >= 5) await flying.shift();
    flying.push(sendTick(k++));
    await sleep(Math.max(0, t0 + k * (1000 / FPS) - Date.now()));
  }
  await Promise.all(flying);
  return k;
}

async function sample(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const dom = await page.evaluate(() => ({
    urls: window.objectUrls.created - window.objectUrls.revoked,
    created: window.objectUrls.created,
    // the view's own elements (the label list grows when a label is added)
    nodes: document.querySelector('main > section:not([hidden])').getElementsByTagName('*').length,
  }));
  return { used: heap.usedSize, buffers: heap.backingStorageSize ?? 0, ...dom };
}

const kb = (n) => `${Math.round(n / 1024)} KB`;

run('soak.mjs', async () => {
  await sendTick(0);
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const wall = await countingPage(context), camera = await countingPage(context);
    await wall.goto(`${env.base}/?token=${env.token}#/label/${LABEL}`);
    await camera.goto(`${env.base}/?token=${env.token}#/camera/${LABEL}/cam1`);
    await waitIn(wall, 'soak: the wall shows three cameras', () => document.querySelectorAll('#wall .tile').length === 3);
    await waitIn(camera, 'soak: the camera view shows frames', () => document.querySelector('#camera').dataset.frameId);
    const pages = [['wall', wall, await context.newCDPSession(wall), 3], ['camera view', camera, await context.newCDPSession(camera), 1]];
    // A label written now must be listed by the periodic refresh by the end.
    await upload({ label: 'soak later', key: 'cam', png: frames[0] });
    const labelAdded = Date.now();

    const start = Date.now(), end = start + SECONDS * 1000;
    const producing = produce(end);
    await sleep(WARMUP_MS);
    const first = [];
    for (const [, page, cdp] of pages) first.push(await sample(page, cdp));
    const series = first.map((s) => [s]);
    while (Date.now() < end - 1000) {
      await sleep(Math.min(20000, end - 1000 - Date.now()));
      for (let i = 0; i < pages.length; i++) series[i].push(await sample(pages[i][1], pages[i][2]));
    }
    const ticks = await producing;
    ok(`soak: ${ticks * CAMS.length} frames sent in ${SECONDS} s (${(ticks / SECONDS).toFixed(1)} fps per camera)`);
    check('soak: the producer kept up with 10 fps (at least 8)', ticks / SECONDS >= 8);
    // A frame may be on its way (its URL made, the previous not yet revoked) while frames come.
    for (let i = 0; i < pages.length; i++) {
      const [name, page, , images] = pages[i];
      check(`soak, ${name}: at most two object URLs per image on screen while frames came (the next being decoded)`,
        series[i].every((x) => x.urls <= 2 * images), series[i].map((x) => x.urls).join(', '));
      await waitIn(page, `soak, ${name}: then one live object URL per image on screen`, (n) =>
        window.objectUrls.created - window.objectUrls.revoked === n, images);
    }

    for (let i = 0; i < pages.length; i++) {
      const [name, , , images] = pages[i];
      const s = series[i], a = s[0], z = s[s.length - 1];
      console.log(`# ${name}, every 20 s after the warm-up: JS heap after GC ${s.map((x) => kb(x.used)).join(', ')}; ` +
        `ArrayBuffers ${s.map((x) => kb(x.buffers)).join(', ')}; live object URLs ${s.map((x) => x.urls).join(', ')}; ` +
        `elements ${s.map((x) => x.nodes).join(', ')}; object URLs made ${z.created}`);
      check(`soak, ${name}: the JS heap does not grow (${kb(a.used)} -> ${kb(z.used)} after GC)`, z.used - a.used <= SLACK);
      check(`soak, ${name}: ArrayBuffer storage does not grow (${kb(a.buffers)} -> ${kb(z.buffers)})`, z.buffers - a.buffers <= SLACK);
      check(`soak, ${name}: the DOM does not grow (${a.nodes} -> ${z.nodes} elements)`, z.nodes <= a.nodes);
      // At least a third of the frames sent after the warm-up must have been shown.
      const sent = (SECONDS * 1000 - WARMUP_MS) / 1000 * FPS * (images === 3 ? 3 : 1);
      check(`soak, ${name}: frames kept coming (${z.created - a.created} shown after the warm-up, ${Math.round(sent)} sent)`,
        z.created - a.created >= sent / 3);
    }
    // The page looks again every 30 s.
    await waitIn(wall, 'soak: the label list refreshed by itself', () =>
      [...document.querySelectorAll('#labels a')].some((a) => a.textContent === 'soak later'), undefined,
    Math.max(1000, labelAdded + 40000 - Date.now()));
  } finally {
    await browser.close();
  }
});
