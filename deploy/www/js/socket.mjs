// socket: a WebSocket to a viewer endpoint that comes back by itself. The
// server ends every session after WS_MAX_SESSION_SECONDS with
// {"status": "closing", ...}; then the socket reconnects at once. Other
// closes are retried with exponential backoff (1 s doubling to 30 s, with
// jitter so that many viewers do not return in step). Every change of state
// is reported in words.
import { parseMessage } from './framing.mjs';

const AFTER_SESSION_END_MS = 250;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;
// A connection that lasted this long was healthy: the next retry starts again from RETRY_FIRST_MS.
const HEALTHY_MS = 10000;

const clock = () => new Date().toLocaleTimeString();

export class LiveSocket {
  // url(): the URL for the next attempt. handlers:
  //   open()                       connected (again)
  //   message(parsed)              parseMessage()'s result for each message
  //   status({state, text, reconnects})   state: connecting, open, waiting, stopped
  //   failed({error})              a close that was not a session end and came
  //                                before any frame or after an {"error": ...}:
  //                                the token may be the reason
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.timer = 0;
    this.stopped = true;
    this.retryMs = RETRY_FIRST_MS;
    this.sessions = 0;   // connections opened so far
    this.reconnects = 0; // ... after the first
    this.attempts = 0;   // attempts since the last open
    this.ended = null; // the last session end: {reason, at}
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
    this.ws = null;
    this.report('stopped', 'Disconnected');
  }

  // Sends a JSON command; false when not connected.
  send(command) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(command));
    return true;
  }

  report(state, text) {
    this.handlers.status?.({ state, text, reconnects: this.reconnects });
  }

  connect() {
    this.attempts++;
    this.report('connecting', this.attempts > 1 ? `Reconnecting (attempt ${this.attempts})…` : 'Connecting…');
    const ws = new WebSocket(this.url());
    ws.binaryType = 'arraybuffer';
    const session = { openedAt: 0, closing: null, error: null, frames: 0 };
    ws.onopen = () => {
      session.openedAt = Date.now();
      if (this.sessions++) this.reconnects++;
      this.attempts = 0;
      if (this.ended) {
        this.report('open', `Connected again at ${clock()}: the server had ended the session (${this.ended.reason}) at ${this.ended.at}`);
      } else {
        this.report('open', this.reconnects ? `Connected again at ${clock()}` : 'Connected');
      }
      this.ended = null;
      this.handlers.open?.();
    };
    ws.onmessage = (event) => {
      const parsed = parseMessage(event.data);
      if (parsed.type === 'frame') session.frames++;
      if (parsed.type === 'control') {
        const m = parsed.message;
        if (m.status === 'closing') session.closing = m;
        else if (m.error !== undefined) session.error = String(m.error);
      }
      this.handlers.message(parsed);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped) this.closed(session, event);
    };
    this.ws = ws;
  }

  closed(session, event) {
    if (session.closing) {
      this.ended = { reason: session.closing.message || session.closing.reason || 'closing', at: clock() };
      this.retryMs = RETRY_FIRST_MS;
      this.report('waiting', `The server ended the session (${this.ended.reason}); reconnecting…`);
      this.timer = setTimeout(() => this.connect(), AFTER_SESSION_END_MS);
      return;
    }
    if (session.openedAt && Date.now() - session.openedAt >= HEALTHY_MS) this.retryMs = RETRY_FIRST_MS;
    const delay = Math.round(this.retryMs * (0.8 + 0.4 * Math.random()));
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    let why;
    if (session.error) why = `The server closed the connection: ${session.error}.`;
    else if (!session.openedAt) why = 'Cannot connect to the server.';
    else why = `Connection lost (code ${event.code}).`;
    this.report('waiting', `${why} Retrying in ${Math.ceil(delay / 1000)} s.`);
    this.timer = setTimeout(() => this.connect(), delay);
    if (session.error || session.frames === 0) this.handlers.failed?.({ error: session.error });
  }
}
