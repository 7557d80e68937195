// session: against a stack whose sessions end after WS_MAX_SESSION_SECONDS=3
// (80-browser.sh): the wall and the camera view reconnect by themselves
// after the server's {"status": "closing", "reason": "session_timeout"},
// say so, and go on showing new frames; a token that expires while the page
// is open ends on the sign-in form with the server's words.
import { countingPage, env, expectEqual, labelsAnswer, launch, mintToken, run, solidPng, upload, waitColour, waitIn } from './lib.mjs';

// One label of its own: cam1 gets new frames, cam2 only its first.
const LABEL = 'sessions';
const send = (colour, key = 'cam1') => upload({ label: LABEL, key, png: solidPng(160, 120, colour), width: 160, height: 120,
  detections: '[[10, 10, 80, 60, 0.9, "person"]]' });

// Reconnected after a session end: at least `n` times, and the words say why.
const reconnected = (selector, n) => [selector, n];
function saysReconnected([selector, n]) {
  const el = document.querySelector(selector);
  return el && Number(el.dataset.reconnects) >= n && el.dataset.state === 'open' &&
    /^Connected again at .*: the server had ended the session \(Session time limit reached\)/.test(el.textContent);
}

run('session.mjs', async () => {
  await send([200, 40, 40]);
  await send([90, 90, 90], 'cam2');
  const browser = await launch();
  const context = await browser.newContext();
  try {
    const page = await countingPage(context);
    await page.goto(`${env.base}/?token=${env.token}#/label/sessions`);
    await waitColour(page, 'a link to a wall with ?token= opens the wall', '#wall .tile[data-key="cam1"] .frame', [200, 40, 40]);
    await waitIn(page, 'the wall reconnects by itself after the server ends the session, and says so',
      saysReconnected, reconnected('#wall .connection', 1), 15000);
    console.log(`# the page says: ${await page.textContent('#wall .connection')}`);
    await send([40, 150, 60]);
    await waitColour(page, '... and shows new frames after it', '#wall .tile[data-key="cam1"] .frame', [40, 150, 60]);
    await waitIn(page, '... session after session', saysReconnected, reconnected('#wall .connection', 2), 15000);
    expectEqual('... with the same tiles', await page.$$eval('#wall .tile .key', (ks) => ks.map((k) => k.textContent)), ['cam1', 'cam2']);
    // Each reconnect brings every camera's newest frame again; a camera that
    // sends nothing must still go quiet (sessions here are shorter than that).
    await waitIn(page, 'a camera that sends nothing goes quiet although every reconnect re-sends its frame', () => {
      const t = document.querySelector('#wall .tile[data-key="cam2"]');
      return t.dataset.state === 'quiet' && Number(document.querySelector('#wall .connection').dataset.reconnects) >= 3;
    }, undefined, 20000);
    expectEqual('... and its frame is counted once', await page.getAttribute('#wall .tile[data-key="cam2"]', 'data-frames'), '1');

    await page.goto(`${env.base}/#/camera/sessions/cam1`);
    await waitColour(page, 'the camera view shows the newest frame', '#camera .frame', [40, 150, 60]);
    await waitIn(page, 'the camera view reconnects by itself after the session end, and says so',
      saysReconnected, reconnected('#camera .connection', 1), 15000);
    await send([50, 60, 200]);
    await waitColour(page, '... and its pull loop goes on', '#camera .frame', [50, 60, 200]);
    const urls = await page.evaluate(() => window.objectUrls);
    expectEqual(`object URLs: one live after the reconnects (${urls.created} made)`, urls.created - urls.revoked, 1);
    await page.close();

    // A token that expires while its wall is open (the server has no leeway).
    const expiresAt = (Math.floor(Date.now() / 1000) + 6) * 1000;
    const short = mintToken({ subject: { username: 'carol', role: 'admin' }, type: 'access', exp: expiresAt / 1000 });
    const viewer = await countingPage(context);
    await viewer.goto(`${env.base}/?token=${short}#/label/sessions`);
    await waitColour(viewer, 'a token about to expire: its wall opens', '#wall .tile[data-key="cam1"] .frame', [50, 60, 200]);
    await waitIn(viewer, 'once it has expired the next session is refused: the sign-in form says why',
      () => !document.querySelector('#signin').hidden && document.querySelector('#signin-message').textContent !== '',
      undefined, Math.max(0, expiresAt - Date.now()) + 15000);
    const refused = await labelsAnswer(short);
    const said = await viewer.textContent('#signin-message');
    expectEqual(`... in the server's words ("${said}")`, said.includes(refused.detail) && refused.status === 401, true);
    expectEqual('... and the wall is closed', await viewer.$$eval('#wall .tile', (t) => t.length), 0);
  } finally {
    await browser.close();
  }
});
