// page: the viewer page in Chromium against a real stack (80-browser.sh runs
// it behind nginx and behind lighttpd): sign-in and its errors, the label
// list, a wall whose tiles show each camera's newest frame with its
// detections drawn where they belong, the one-camera view's pull loop,
// pause and "save frame", and the layout on a phone. Saves the wall's
// screenshot as $OUTPUT_DIR/wall.png (wall-lighttpd.png behind lighttpd).
import fs from 'node:fs';
import {
  check, countingPage, decodePng, env, expectEqual, imageColour, labelsAnswer, launch, near, ok,
  overlayReport, run, saveScreenshot, solidPng, upload, waitColour, waitIn,
} from './lib.mjs';
import { classColour } from '../../deploy/www/js/overlay.mjs';

const tile = (key) => `#wall .tile[data-key="${key}"]`;
const tileFrame = (key) => `${tile(key)} .frame`;

// Cameras of "site A", each with its own kind of detections.
const RED = [200, 40, 40], GREEN = [40, 150, 60], BLUE = [50, 60, 200], GREY = [110, 110, 110];
const cams = {
  // pixel lists in the detector's 640x480, on a 320x240 image: halved
  cam1: { size: [320, 240], colour: RED, width: 640, height: 480,
    detections: '[[64, 48, 320, 240, 0.91, "person"]]', boxes: [[32, 24, 160, 120]] },
  // objects: 0..1 corners, and a pixel corner + size; a 0..1 list; no width/height given
  cam2: { size: [200, 100], colour: GREEN, width: '', height: '',
    detections: '[{"bbox": {"x1": 0.5, "y1": 0.2, "x2": 0.9, "y2": 0.8}, "class_name": "helmet", "confidence": 0.77},'
      + ' {"bbox": {"x": 10, "y": 10, "width": 40, "height": 30}, "class_name": "vest", "confidence": 0.5},'
      + ' [0.05, 0.55, 0.3, 0.95, 0.66, "worker"]]',
    boxes: [[100, 20, 180, 80], [10, 10, 50, 40], [10, 55, 60, 95]] },
  // malformed JSON everywhere: nothing drawn, the warnings' text shown as it is
  cam3: { size: [160, 120], colour: BLUE, width: 160, height: 120,
    detections: '[[1, 2,', cones: 'not json', warnings: '["No helmet: worker 3", "Near machinery"]', boxes: [] },
  // polygons only: a pixel cone area, a 0..1 pole area given as one polygon
  cam4: { size: [300, 200], colour: GREY, width: 300, height: 200, detections: '',
    cones: '[[[20, 20], [120, 20], [120, 100], [20, 100]]]', poles: '[[0.6, 0.5], [0.9, 0.5], [0.9, 0.9], [0.6, 0.9]]',
    boxes: [[20, 20, 120, 100], [180, 100, 270, 180]] },
};

function send(label, key, cam, colour = cam.colour, extra = {}) {
  const png = solidPng(cam.size[0], cam.size[1], colour);
  return upload({ label, key, png, width: cam.width, height: cam.height, detections: cam.detections ?? '',
    cones: cam.cones ?? '', poles: cam.poles ?? '', warnings: cam.warnings ?? '', ...extra }).then(() => png);
}

async function signInChecks(context) {
  const page = await countingPage(context);
  await page.goto(`${env.base}/`);
  await waitIn(page, 'no token: the sign-in form shows', () => !document.querySelector('#signin').hidden);
  const bad = await labelsAnswer('not-a-token');
  await page.fill('#token', 'not-a-token');
  await page.click('#signin-button');
  await waitIn(page, `a bad token typed in: the server's message shows ("${bad.detail}")`, (d) =>
    document.querySelector('#signin-message').textContent.includes(d), bad.detail);
  console.log(`# the page says: ${await page.textContent('#signin-message')}`);
  const expired = process.env.EXPIRED_TOKEN;
  const exp = await labelsAnswer(expired);
  expectEqual('GET /labels refuses the expired token (401)', exp.status, 401);
  await page.goto(`${env.base}/?token=${expired}`);
  await waitIn(page, `an expired token in ?token=: the server's message shows ("${exp.detail}")`, (d) =>
    !document.querySelector('#signin').hidden && document.querySelector('#signin-message').textContent.includes(d), exp.detail);
  console.log(`# the page says: ${await page.textContent('#signin-message')}`);
  expectEqual('... and the refused token is not kept', await page.evaluate(() => sessionStorage.getItem('streamweb.token')), null);
  await page.close();

  const viewer = await countingPage(context);
  await viewer.goto(`${env.base}/?token=${process.env.VIEWER_TOKEN}`);
  await waitIn(viewer, 'a viewer token: its labels show', () => document.querySelectorAll('#label-list a').length > 0);
  expectEqual('... only the labels of its sites', await viewer.$$eval('#label-list a', (as) => as.map((a) => a.textContent)), ['other']);
  await viewer.close();
}

async function wallChecks(context) {
  const page = await countingPage(context);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${env.base}/?token=${env.token}`);
  await waitIn(page, 'a good token in ?token=: the label list shows', () => document.querySelectorAll('#label-list a').length >= 3);
  expectEqual('labels: what GET /labels lists, in its order', await page.$$eval('#label-list a', (as) => as.map((a) => a.textContent)),
    (await labelsAnswer(env.token)).labels);
  expectEqual('the token left the address bar', new URL(page.url()).search, '');
  expectEqual('... and is kept in sessionStorage', await page.evaluate(() => sessionStorage.getItem('streamweb.token')), env.token);

  // A label that appears while the page is open is listed when the list is shown again.
  await send('later label', 'cam', cams.cam3);
  await page.click('#labels a[data-label="other"]');
  await page.click('.bar h1 a');
  await waitIn(page, 'a new label appears in the list', () =>
    [...document.querySelectorAll('#label-list a')].some((a) => a.textContent === 'later label'));

  await page.click('#label-list a[data-label="site A"]');
  await waitIn(page, 'the wall of "site A" opens with a tile per camera', () =>
    document.querySelectorAll('#wall .tile').length === 4);
  expectEqual('the address names the label, percent-encoded', new URL(page.url()).hash, '#/label/site%20A');
  expectEqual('tiles: one per camera, in key order', await page.$$eval('#wall .tile .key', (ks) => ks.map((k) => k.textContent)),
    ['cam1', 'cam2', 'cam3', 'cam4']);
  await waitIn(page, 'connection state: connected', () => document.querySelector('#wall .connection').textContent === 'Connected');
  for (const [key, cam] of Object.entries(cams)) {
    await waitColour(page, `${key}: the tile shows its frame`, tileFrame(key), cam.colour);
  }

  // Boxes: on their pixels and nowhere else.
  for (const key of ['cam1', 'cam2']) {
    const cam = cams[key];
    const r = await overlayReport(page, tileFrame(key), cam.boxes);
    expectEqual(`${key}: the overlay has the image's natural size`, [r.width, r.height], cam.size);
    check(`${key}: every box's four edges are drawn`, r.edges.every((n) => n === 4), JSON.stringify(r));
    check(`${key}: nothing drawn outside the boxes`, r.painted > 0 && r.outside === 0, JSON.stringify(r));
    check(`${key}: nothing drawn inside a box below its tag`, r.interior.every((n) => n === 0), JSON.stringify(r));
  }
  {
    const r = await overlayReport(page, tileFrame('cam4'), cams.cam4.boxes);
    check('cam4: cone and pole polygons filled where they are, nothing elsewhere',
      r.outside === 0 && r.interior.every((n) => n > 0), JSON.stringify(r));
    const r3 = await overlayReport(page, tileFrame('cam3'), []);
    check('cam3: malformed detection and polygon JSON draws nothing', r3.painted === 0, JSON.stringify(r3));
  }
  expectEqual('legends name what is drawn', await page.$$eval('#wall .tile', (ts) => ts.map((t) =>
    [...t.querySelectorAll('.legend li')].map((li) => li.textContent))), [['person'], ['helmet', 'vest', 'worker'], [], ['cone area', 'pole area']]);
  expectEqual('warnings shown in words', await page.$$eval(`${tile('cam3')} .warnings li`, (ls) => ls.map((l) => l.textContent)),
    ['No helmet: worker 3', 'Near machinery']);
  check('a tile shows its frame age', /^\d+(\.\d)? s$/.test(await page.textContent(`${tile('cam1')} .age`)));

  // On screen (a screenshot): the box's edge over the image, the image inside it.
  const bottom = await page.$eval('#wall', (w) => Math.ceil(w.getBoundingClientRect().bottom) + 16);
  const shot = await page.screenshot({ clip: { x: 0, y: 0, width: 1280, height: bottom } });
  const file = saveScreenshot(env.server === 'nginx' ? 'wall.png' : `wall-${env.server}.png`, shot);
  const png = decodePng(shot);
  const rect = await page.$eval(`${tileFrame('cam1')} canvas`, (c) => { const r = c.getBoundingClientRect(); return [r.x, r.y, r.width / c.width]; });
  const at = (x, y) => png.at(Math.round(rect[0] + x * rect[2]), Math.round(rect[1] + y * rect[2]));
  const b = cams.cam1.boxes[0];
  const stroke = [1, 3, 5].map((i) => parseInt(classColour('person').slice(i, i + 2), 16));
  check('screenshot: cam1\'s box edge is drawn over the image', near(at(b[0] + 1, (b[1] + b[3]) / 2), stroke, 40),
    `got ${at(b[0] + 1, (b[1] + b[3]) / 2)}, want about ${stroke}`);
  check('screenshot: ... and the image shows inside and outside the box',
    near(at((b[0] + b[2]) / 2, (b[1] + b[3]) / 2 + 20), RED, 40) && near(at(b[2] + 40, b[3] + 40), RED, 40),
    `got ${at((b[0] + b[2]) / 2, (b[1] + b[3]) / 2 + 20)} and ${at(b[2] + 40, b[3] + 40)}`);
  ok(`screenshot of the wall saved (${file})`);

  // New frames replace the old ones; malformed detections clear the old boxes.
  const frames0 = Number(await page.getAttribute(tile('cam1'), 'data-frames'));
  const YELLOW = [230, 200, 30], PURPLE = [140, 50, 160], CYAN = [40, 180, 190];
  await send('site A', 'cam1', cams.cam1, YELLOW);
  await waitColour(page, 'cam1: a new frame replaces the old one', tileFrame('cam1'), YELLOW);
  check('... counted as one more frame', Number(await page.getAttribute(tile('cam1'), 'data-frames')) === frames0 + 1);
  await send('site A', 'cam1', { ...cams.cam1, detections: '{"oops": ' }, PURPLE);
  await waitColour(page, 'cam1: a frame with malformed detections still shows', tileFrame('cam1'), PURPLE);
  const cleared = await overlayReport(page, tileFrame('cam1'), []);
  check('... and the previous frame\'s boxes are gone', cleared.painted === 0, JSON.stringify(cleared));
  expectEqual('... and its legend is empty', await page.$$eval(`${tile('cam1')} .legend li`, (l) => l.length), 0);
  await send('site A', 'cam3', cams.cam3, CYAN);
  await waitColour(page, 'cam3 (malformed JSON again): the tile updates', tileFrame('cam3'), CYAN);

  // A frame that is no image: said in words, the last good frame stays.
  await upload({ label: 'site A', key: 'cam3', png: Buffer.from('this is not an image') });
  await waitIn(page, 'cam3: a frame that is not an image is reported on its tile', () =>
    !document.querySelector('#wall .tile[data-key="cam3"] .broken').hidden);
  check('... and the last good frame stays', near(await imageColour(page, tileFrame('cam3')), CYAN, 2));
  await send('site A', 'cam3', cams.cam3, BLUE);
  await waitIn(page, '... until a good one comes', () =>
    document.querySelector('#wall .tile[data-key="cam3"] .broken').hidden);

  // The frame rate, from ten frames about 100 ms apart (as fast as the
  // machine lets them go: the rate shown must match the rate they went at).
  await waitIn(page, 'cam1: no rate shown once its last frames are 5 s old', () =>
    document.querySelector('#wall .tile[data-key="cam1"] .rate').textContent === '– fps');
  const sentAt = [];
  for (let i = 0; i < 10; i++) {
    const t = Date.now();
    await send('site A', 'cam1', cams.cam1, i % 2 ? YELLOW : RED);
    sentAt.push(Date.now());
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
  }
  await waitIn(page, 'cam1: ten more frames arrive', (n) => Number(document.querySelector('#wall .tile[data-key="cam1"]')?.dataset.frames) >= n,
    frames0 + 12);
  const rate = parseFloat(await page.textContent(`${tile('cam1')} .rate`));
  const sentRate = (9 * 1000) / (sentAt[9] - sentAt[0]);
  check(`cam1: the frame rate shown (${rate} fps) is the rate frames were sent at (${sentRate.toFixed(1)} fps)`,
    rate >= sentRate / 2 && rate <= sentRate * 2);

  // A camera that stops is marked quiet; its next frame makes it live again.
  await waitIn(page, 'cam2 (no frame since the start): marked quiet', () =>
    document.querySelector('#wall .tile[data-key="cam2"]').dataset.state === 'quiet' &&
    !document.querySelector('#wall .tile[data-key="cam2"] .quiet').hidden, undefined, 20000);
  await send('site A', 'cam2', cams.cam2);
  await waitIn(page, '... and live again with its next frame', () =>
    document.querySelector('#wall .tile[data-key="cam2"]').dataset.state === 'live');

  const urls = await page.evaluate(() => window.objectUrls);
  check(`object URLs: one live per tile (${urls.created} made, ${urls.revoked} revoked)`, urls.created - urls.revoked === 4 && urls.created >= 20,
    JSON.stringify(urls));

  // On a phone: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await waitIn(page, 'on a phone the tiles reflow into one column that fits the screen', () => {
    const rs = [...document.querySelectorAll('#wall .tile')].map((t) => t.getBoundingClientRect());
    return rs.every((r) => r.left === rs[0].left && r.right <= innerWidth) && document.documentElement.scrollWidth <= innerWidth;
  });
  await page.setViewportSize({ width: 1280, height: 900 });

  // An unknown label: the server's words.
  await page.goto(`${env.base}/#/label/no%20such`);
  await waitIn(page, 'an unknown label: the server\'s error shows in words', () =>
    document.querySelector('#wall .view-message').textContent.includes("No keys found for label 'no such'"));
  return page;
}

async function cameraChecks(context, page) {
  await page.goto(`${env.base}/#/label/site%20A`);
  await waitIn(page, 'back on the wall', () => document.querySelectorAll('#wall .tile').length === 4);
  await page.click(`${tile('cam1')} a`);
  expectEqual('a tile opens its camera', new URL(page.url()).hash, '#/camera/site%20A/cam1');
  const cam = cams.cam1, ORANGE = [220, 120, 20], TEAL = [20, 120, 120], PINK = [230, 120, 170];
  await send('site A', 'cam1', cam, ORANGE);
  await waitColour(page, 'the camera view shows the newest frame', '#camera .frame', ORANGE);
  const r = await overlayReport(page, '#camera .frame', cam.boxes);
  check('... with its box drawn where it belongs', r.edges[0] === 4 && r.outside === 0, JSON.stringify(r));
  const pulls0 = Number(await page.getAttribute('#camera', 'data-pulls'));
  await send('site A', 'cam1', cam, TEAL);
  await waitColour(page, 'the pull loop follows the camera', '#camera .frame', TEAL);
  check('... one pull after another', Number(await page.getAttribute('#camera', 'data-pulls')) > pulls0);
  check('... the frame id is the Redis entry id', /^\d+-\d+$/.test(await page.textContent('#camera .frame-id')));

  // Pause: no pull goes out, so a new frame does not come, while a wall
  // in another tab shows that it was written.
  await page.click('#camera .pause');
  await waitIn(page, 'pause: the outstanding pull is answered, no new one goes out', () =>
    document.querySelector('#camera').dataset.paused === 'true' && document.querySelector('#camera').dataset.awaiting === 'false');
  const pulls = await page.getAttribute('#camera', 'data-pulls'), id = await page.getAttribute('#camera', 'data-frame-id');
  const wall = await countingPage(context);
  await wall.goto(`${env.base}/?token=${env.token}#/label/site%20A`);
  const png = await send('site A', 'cam1', cam, PINK);
  await waitColour(wall, 'another tab\'s wall shows the frame written while paused', tileFrame('cam1'), PINK);
  await send('site A', 'cam1', cam, PINK);
  await waitIn(wall, '... and one more', () => Number(document.querySelector('#wall .tile[data-key="cam1"]')?.dataset.frames) >= 2);
  expectEqual('paused: no pull was sent', await page.getAttribute('#camera', 'data-pulls'), pulls);
  expectEqual('paused: the frame on screen stays', await page.getAttribute('#camera', 'data-frame-id'), id);
  check('paused: ... and so does its image', near(await imageColour(page, '#camera .frame'), TEAL, 2));
  await wall.close();
  await page.click('#camera .pause');
  await waitColour(page, 'resume: the newest frame comes', '#camera .frame', PINK);

  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click('#camera .save')]);
  const saved = fs.readFileSync(await download.path());
  check(`save frame: the image as the camera sent it (${download.suggestedFilename()})`, saved.equals(png) &&
    /^site_A-cam1-\d+-\d+\.png$/.test(download.suggestedFilename()), `${saved.length} bytes, ${download.suggestedFilename()}`);

  // A label and key that need percent-encoding, from the wall to the camera.
  await page.goto(`${env.base}/#/label/${encodeURIComponent('工地 東')}`);
  await waitIn(page, 'a non-ASCII label\'s wall shows its camera', () =>
    document.querySelector('#wall .tile .key')?.textContent === '攝影機 1');
  await page.click('#wall .tile a');
  await waitColour(page, 'a non-ASCII camera\'s view shows its frame', '#camera .frame', GREEN);
  const urls = await page.evaluate(() => window.objectUrls);
  check(`object URLs: none left behind by closed views (${urls.created - urls.revoked} live)`, urls.created - urls.revoked <= 1, JSON.stringify(urls));
}

run('page.mjs', async () => {
  for (const [key, cam] of Object.entries(cams)) await send('site A', key, cam);
  await send('工地 東', '攝影機 1', cams.cam2);
  await send('other', 'cam', cams.cam4);
  const browser = await launch();
  const context = await browser.newContext({ acceptDownloads: true });
  try {
    await signInChecks(context);
    const page = await wallChecks(context);
    await cameraChecks(context, page);
  } finally {
    await browser.close();
  }
});
