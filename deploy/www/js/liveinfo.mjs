// liveinfo: what a tile or the camera view says about a camera besides its
// image: frame rate, age of the newest frame, whether it has gone quiet,
// and its warnings in words.
import { parseJsonText } from './overlay.mjs';

const RATE_WINDOW_MS = 5000;
// Quiet: no frame for this long, or for three of its usual intervals if longer.
const QUIET_MIN_MS = 5000;
const QUIET_INTERVALS = 3;

export class LiveInfo {
  constructor() {
    this.arrivals = []; // arrival times (ms) within the last RATE_WINDOW_MS
    this.last = 0;
    this.frames = 0;
    this.interval = 0; // usual time between frames: a moving average, in ms
  }

  frame(now = Date.now()) {
    if (this.frames++) {
      const d = now - this.last;
      this.interval = this.frames > 2 ? 0.8 * this.interval + 0.2 * d : d;
    }
    this.last = now;
    this.arrivals.push(now);
    this.trim(now);
  }

  trim(now) {
    while (this.arrivals.length && this.arrivals[0] < now - RATE_WINDOW_MS) this.arrivals.shift();
  }

  // Frames per second over the last few seconds; 0 when unknown.
  rate(now = Date.now()) {
    this.trim(now);
    const a = this.arrivals;
    if (a.length < 2 || a[a.length - 1] === a[0]) return 0;
    return ((a.length - 1) * 1000) / (a[a.length - 1] - a[0]);
  }

  quiet(now = Date.now()) {
    if (!this.frames) return false;
    return now - this.last > Math.max(QUIET_MIN_MS, QUIET_INTERVALS * this.interval);
  }
}

// "0.4 s", "12 s", "3 min", "2 h" ago.
export function ageText(ms) {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

export function rateText(fps) {
  return fps ? `${fps < 10 ? fps.toFixed(1) : Math.round(fps)} fps` : '– fps';
}

// The header's warnings (JSON text: a list, a string or an object) as lines
// of text; text that is not JSON is shown as it is.
export function warningTexts(text) {
  if (typeof text !== 'string' || text.trim() === '') return [];
  const value = parseJsonText(text);
  if (value === undefined) return [text];
  const one = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
  if (Array.isArray(value)) return value.map(one).filter((s) => s !== '');
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${one(v)}`);
  return value === null || value === '' ? [] : [one(value)];
}

// The time a Redis entry id ("1718000000000-0") was written, in ms, or 0.
export function idTime(id) {
  const ms = Number.parseInt(String(id ?? '').split('-')[0], 10);
  return ms > 0 ? ms : 0;
}
