// camera: one camera, large, over /ws/stream/{label}/{key}. The view asks for
// each frame with {"action": "pull"} and sends the next pull only once the
// previous frame is on screen, so it follows the camera as fast as this
// browser can draw and never piles frames up. Pause stops pulling (a ping
// every 20 s keeps the connection past WS_IDLE_TIMEOUT_SECONDS); "save
// frame" downloads the image on screen as the camera sent it.
import { wsUrl } from './api.mjs';
import { fillList, say, showConnection } from './dom.mjs';
import { FrameView } from './frameview.mjs';
import { LiveInfo, ageText, idTime, rateText, warningTexts } from './liveinfo.mjs';
import { LiveSocket } from './socket.mjs';

const PING_MS = 20000;
const TICK_MS = 1000;
// After {"error": ...} (e.g. no frames yet) the next pull waits this long.
const RETRY_PULL_MS = 1000;

const EXTENSIONS = { 'image/jpeg': 'jpg', 'image/png': 'png' };

export class CameraView {
  // root: the #camera section; options: {label, key, token, wallHref(label), failed(error)}
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.statusEl = root.querySelector('.connection');
    this.message = root.querySelector('.view-message');
    this.pauseButton = root.querySelector('.pause');
    this.saveButton = root.querySelector('.save');
    this.fields = {
      id: root.querySelector('.frame-id'),
      written: root.querySelector('.written'),
      age: root.querySelector('.age'),
      rate: root.querySelector('.rate'),
      warnings: root.querySelector('.warnings'),
    };
    this.view = new FrameView(root.querySelector('.frame'), root.querySelector('.legend'));
    this.info = new LiveInfo();
    this.paused = false;
    this.awaiting = false; // a pull is out and its answer not drawn yet
    this.pulls = 0;
    this.lastId = null;
    this.session = 0; // counts connections: an answer from an older one pulls no more
    this.writtenAt = 0;
    this.retryTimer = 0;
    root.querySelector('.view-title').textContent = `${options.label} / ${options.key}`;
    root.querySelector('.back').href = options.wallHref(options.label);
    say(this.message, '');
    this.onPause = () => this.setPaused(!this.paused);
    this.onSave = () => this.save();
    this.pauseButton.addEventListener('click', this.onPause);
    this.saveButton.addEventListener('click', this.onSave);
    this.saveButton.disabled = true;
    this.socket = new LiveSocket(() => wsUrl(['stream', options.label, options.key], options.token), {
      open: () => {
        this.session++;
        this.answered();
        this.pull();
      },
      message: (m) => this.received(m),
      status: (s) => showConnection(this.statusEl, s),
      failed: (f) => options.failed(f.error),
    });
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.pinger = setInterval(() => this.paused && this.socket.send({ action: 'ping' }), PING_MS);
    this.setPaused(false);
  }

  start() {
    this.socket.start();
  }

  stop() {
    clearInterval(this.ticker);
    clearInterval(this.pinger);
    clearTimeout(this.retryTimer);
    this.pauseButton.removeEventListener('click', this.onPause);
    this.saveButton.removeEventListener('click', this.onSave);
    this.socket.stop();
    this.view.close();
  }

  setPaused(paused) {
    this.paused = paused;
    this.root.dataset.paused = String(paused);
    this.pauseButton.textContent = paused ? 'Resume' : 'Pause';
    this.pauseButton.setAttribute('aria-pressed', String(paused));
    if (!paused) this.pull();
  }

  pull() {
    if (this.paused || this.awaiting) return;
    if (!this.socket.send({ action: 'pull' })) return; // open() pulls
    this.awaiting = true;
    this.pulls++;
    this.root.dataset.pulls = String(this.pulls);
    this.root.dataset.awaiting = 'true';
  }

  answered() {
    this.awaiting = false;
    this.root.dataset.awaiting = 'false';
  }

  async received(m) {
    if (m.type === 'control') {
      if (m.message.error === undefined) return; // pong, closing (the socket reports it)
      this.answered();
      say(this.message, `The server says: ${m.message.error}`);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.pull(), RETRY_PULL_MS);
      return;
    }
    if (m.type === 'invalid') {
      this.answered();
      say(this.message, `Ignored a message the page does not understand: ${m.reason}`);
      this.pull();
      return;
    }
    // The server re-sends the newest frame when none came within PULL_WAIT_MS.
    const session = this.session;
    if (m.header.id === undefined || m.header.id !== this.lastId) await this.showFrame(m.header, m.image);
    if (session !== this.session) return;
    this.answered();
    this.pull();
  }

  async showFrame(header, image) {
    this.lastId = header.id;
    this.info.frame();
    const ok = await this.view.show(header, image);
    say(this.message, ok ? '' : 'This frame could not be decoded as an image.');
    this.writtenAt = idTime(header.id);
    this.fields.id.textContent = header.id ?? '';
    this.fields.written.textContent = this.writtenAt ? new Date(this.writtenAt).toLocaleTimeString() : '';
    fillList(this.fields.warnings, warningTexts(header.warnings));
    this.root.dataset.frameId = header.id ?? '';
    this.saveButton.disabled = !this.view.url;
    this.tick();
  }

  tick() {
    const now = Date.now();
    if (!this.info.frames) return;
    // The entry id says when the camera's frame was written; the arrival
    // time stands in if the id is not a time.
    this.fields.age.textContent = ageText(now - (this.writtenAt || this.info.last));
    this.fields.rate.textContent = rateText(this.info.rate(now));
  }

  save() {
    if (!this.view.url) return;
    const a = document.createElement('a');
    const safe = (s) => s.replace(/[^\p{L}\p{N}._-]+/gu, '_');
    const ext = EXTENSIONS[this.view.type] ?? 'bin';
    a.href = this.view.url;
    a.download = `${safe(this.options.label)}-${safe(this.options.key)}-${safe(this.lastId ?? 'frame')}.${ext}`;
    a.click();
  }
}
