// framing: turns one WebSocket message from /ws/labels or /ws/stream into a
// frame (JSON header + image bytes) or a JSON control message (API §4).

const DELIMITER = new TextEncoder().encode('--IMG--');
const utf8 = new TextDecoder('utf-8', { fatal: true });

const QUOTE = 0x22, BACKSLASH = 0x5c, OPEN = 0x7b, CLOSE = 0x7d;

function isSpace(b) {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

function skipSpace(bytes, i) {
  while (i < bytes.length && isSpace(bytes[i])) i++;
  return i;
}

// The index just past the JSON object that starts at bytes[start], or -1 if
// it does not close. Braces inside strings do not count, so a header whose
// strings hold "}" or "--IMG--" is still split where the server split it
// (UTF-8 continuation bytes are >= 0x80 and never look like these).
export function jsonObjectEnd(bytes, start = 0) {
  if (bytes[start] !== OPEN) return -1;
  let depth = 0, inString = false;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN) {
      depth++;
    } else if (b === CLOSE && --depth === 0) {
      return i + 1;
    }
  }
  return -1;
}

function startsWithAt(bytes, i, pattern) {
  if (i + pattern.length > bytes.length) return false;
  for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) return false;
  return true;
}

function parseObject(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

function invalid(reason) {
  return { type: 'invalid', reason };
}

function control(text) {
  const message = parseObject(text);
  return message ? { type: 'control', message } : invalid('a message that is not a JSON object');
}

// parseMessage(data): data is a string (text message) or an ArrayBuffer /
// Uint8Array (binary message). Returns one of
//   { type: 'frame', header, image }   image: a Uint8Array view, not a copy
//   { type: 'control', message }       e.g. {"error": ...}, {"status": "closing", ...}
//   { type: 'invalid', reason }
export function parseMessage(data) {
  if (typeof data === 'string') return control(data);
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const start = skipSpace(bytes, 0);
  const end = jsonObjectEnd(bytes, start);
  if (end < 0) return invalid('a binary message without a JSON header');
  let headerText;
  try {
    headerText = utf8.decode(bytes.subarray(start, end));
  } catch {
    return invalid('a JSON header that is not UTF-8');
  }
  const after = skipSpace(bytes, end);
  if (startsWithAt(bytes, after, DELIMITER)) {
    const header = parseObject(headerText);
    if (!header) return invalid('a frame whose header is not a JSON object');
    return { type: 'frame', header, image: bytes.subarray(after + DELIMITER.length) };
  }
  if (after === bytes.length) return control(headerText);
  return invalid('bytes after the JSON header that are not "--IMG--"');
}

// The image type from its first bytes, for the Blob: browsers sniff images
// anyway, but "save frame" names the file after it.
export function imageType(image) {
  if (image.length >= 3 && image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff) return 'image/jpeg';
  if (image.length >= 8 && image[0] === 0x89 && image[1] === 0x50 && image[2] === 0x4e && image[3] === 0x47) return 'image/png';
  return '';
}

// A 32-bit FNV-1a digest of an image: tells a frame the server sends again
// at a reconnect (the newest of each camera) from a new one.
export function imageDigest(image) {
  let h = 0x811c9dc5;
  for (let i = 0; i < image.length; i++) h = Math.imul(h ^ image[i], 0x01000193);
  return h >>> 0;
}
