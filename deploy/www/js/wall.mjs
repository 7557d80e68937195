// wall: a label's wall, one live tile per camera, fed by /ws/labels/{label}
// (the server pushes each camera's newest frame as it is written). A tile
// shows the image with its detections, the camera key, the frame's age and
// rate, its warnings, and "quiet" when the camera has stopped sending.
import { wsUrl } from './api.mjs';
import { fillList, say, showConnection } from './dom.mjs';
import { FrameView } from './frameview.mjs';
import { imageDigest } from './framing.mjs';
import { LiveInfo, ageText, rateText, warningTexts } from './liveinfo.mjs';
import { LiveSocket } from './socket.mjs';

const TICK_MS = 1000;

export class Wall {
  // root: the #wall section; options: {label, token, cameraHref(label, key), failed(error)}
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.grid = root.querySelector('.grid');
    this.message = root.querySelector('.view-message');
    this.statusEl = root.querySelector('.connection');
    this.template = document.getElementById('tile-template');
    this.tiles = new Map(); // camera key -> tile
    root.querySelector('.view-title').textContent = options.label;
    this.grid.replaceChildren();
    say(this.message, '');
    this.socket = new LiveSocket(() => wsUrl(['labels', options.label], options.token), {
      open: () => say(this.message, ''), // what the last connection said is over
      message: (m) => this.received(m),
      status: (s) => showConnection(this.statusEl, s),
      failed: (f) => options.failed(f.error),
    });
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  start() {
    this.socket.start();
  }

  stop() {
    clearInterval(this.ticker);
    this.socket.stop();
    for (const tile of this.tiles.values()) tile.view.close();
    this.tiles.clear();
    this.grid.replaceChildren();
  }

  received(m) {
    if (m.type === 'frame') {
      this.frame(m.header, m.image);
    } else if (m.type === 'control' && m.message.error !== undefined) {
      const size = m.message.size ? ` (${m.message.size} bytes)` : '';
      say(this.message, `${new Date().toLocaleTimeString()}: the server says: ${m.message.error}${size}`);
    } else if (m.type === 'invalid') {
      say(this.message, `Ignored a message the page does not understand: ${m.reason}`);
    }
  }

  frame(header, image) {
    const key = typeof header.key === 'string' ? header.key : '';
    if (!key) {
      say(this.message, 'Ignored a frame without a camera key');
      return;
    }
    const tile = this.tiles.get(key) ?? this.addTile(key);
    // At each (re)connect the server sends every camera's newest frame: the
    // one on screen, if the camera has sent nothing since. It must not count
    // as new (age, rate, quiet). The entry id tells, if the server sends one;
    // else the image does.
    const digest = imageDigest(image), session = this.socket.sessions;
    const again = tile.session !== session &&
      (header.id !== undefined ? header.id === tile.id : digest === tile.digest && image.length === tile.length);
    Object.assign(tile, { id: header.id, digest, length: image.length, session });
    if (again) return;
    tile.info.frame();
    tile.el.dataset.frames = String(tile.info.frames);
    this.showWarnings(tile, warningTexts(header.warnings));
    tile.view.show(header, image).then((ok) => {
      tile.el.dataset.shown = String(++tile.shown);
      tile.broken.hidden = ok;
    });
    this.tickTile(tile, Date.now());
  }

  addTile(key) {
    const el = this.template.content.firstElementChild.cloneNode(true);
    el.dataset.key = key;
    el.querySelector('.key').textContent = key;
    el.querySelector('a').href = this.options.cameraHref(this.options.label, key);
    el.querySelector('img').alt = `Camera ${key}`;
    const tile = {
      el,
      view: new FrameView(el.querySelector('.frame'), el.querySelector('.legend')),
      info: new LiveInfo(),
      age: el.querySelector('.age'),
      rate: el.querySelector('.rate'),
      quiet: el.querySelector('.quiet'),
      warnings: el.querySelector('.warnings'),
      broken: el.querySelector('.broken'),
      warningKey: '',
      shown: 0,
      id: undefined, // the newest frame's entry id, digest and length, and the connection it came on
      digest: 0,
      length: -1,
      session: 0,
    };
    // Tiles stay in key order whatever order their first frames come in.
    const after = [...this.tiles.keys()].filter((k) => k > key).sort()[0];
    this.grid.insertBefore(el, after === undefined ? null : this.tiles.get(after).el);
    this.tiles.set(key, tile);
    say(this.message, '');
    return tile;
  }

  showWarnings(tile, lines) {
    const key = lines.join('\n');
    if (key === tile.warningKey) return;
    tile.warningKey = key;
    fillList(tile.warnings, lines);
  }

  tick() {
    const now = Date.now();
    for (const tile of this.tiles.values()) this.tickTile(tile, now);
  }

  tickTile(tile, now) {
    tile.age.textContent = ageText(now - tile.info.last);
    tile.rate.textContent = rateText(tile.info.rate(now));
    const quiet = tile.info.quiet(now);
    tile.quiet.hidden = !quiet;
    tile.el.dataset.state = quiet ? 'quiet' : 'live';
  }
}
