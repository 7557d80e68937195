// Unit tests of deploy/www/js/framing.mjs: splitting messages the way the
// server frames them (API §4). Run by tests/run.sh with node --test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageDigest, imageType, jsonObjectEnd, parseMessage } from '../../../deploy/www/js/framing.mjs';

const enc = (s) => new TextEncoder().encode(s);
const cat = (...parts) => {
  const bytes = parts.map((p) => (typeof p === 'string' ? enc(p) : p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) { out.set(b, at); at += b.length; }
  return out;
};

test('jsonObjectEnd: braces and quotes inside strings do not count', () => {
  const text = '{"a": "}{\\"}", "b": {"c": "--IMG--"}}tail';
  assert.equal(jsonObjectEnd(enc(text)), text.indexOf('tail'));
  assert.equal(jsonObjectEnd(enc('{"a": "\\\\"}x')), 11);
  assert.equal(jsonObjectEnd(enc('{"open": "}')), -1);
  assert.equal(jsonObjectEnd(enc('[1]')), -1);
});

test('a frame: header parsed, image is what follows the delimiter', () => {
  const image = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0x2d, 0x2d]);
  const m = parseMessage(cat('{"key": "cam 1", "width": "640"}--IMG--', image).buffer);
  assert.equal(m.type, 'frame');
  assert.deepEqual(m.header, { key: 'cam 1', width: '640' });
  assert.deepEqual([...m.image], [...image]);
});

test('a header string holding "--IMG--" or "}" does not split the frame early', () => {
  const m = parseMessage(cat('{"warnings": "[\\"--IMG--}\\"]", "key": "k"}--IMG--', 'IMAGE'));
  assert.equal(m.type, 'frame');
  assert.equal(m.header.warnings, '["--IMG--}"]');
  assert.equal(new TextDecoder().decode(m.image), 'IMAGE');
});

test('the image may itself contain "--IMG--"', () => {
  const m = parseMessage(cat('{"key": "k"}--IMG--', 'a--IMG--b'));
  assert.equal(new TextDecoder().decode(m.image), 'a--IMG--b');
});

test('non-ASCII header text survives', () => {
  const m = parseMessage(cat('{"key": "攝影機 1"}--IMG--', 'x'));
  assert.equal(m.header.key, '攝影機 1');
});

test('control messages, as text or as binary messages (websocketd --binary)', () => {
  assert.deepEqual(parseMessage('{"action": "pong"}'), { type: 'control', message: { action: 'pong' } });
  const closing = '{"status": "closing", "reason": "session_timeout", "message": "Session time limit reached"}\n';
  assert.deepEqual(parseMessage(enc(closing).buffer).message.reason, 'session_timeout');
  assert.equal(parseMessage(enc('{"error": "No frames for this stream"}')).message.error, 'No frames for this stream');
});

test('what cannot be understood is reported, not thrown', () => {
  for (const bad of ['not json', '[1, 2]', 'null']) assert.equal(parseMessage(bad).type, 'invalid', bad);
  for (const bad of ['', 'IMG', '{"key": "k"', '{"key": "k"} trailing', '{"key": \xff}--IMG--x']) {
    assert.equal(parseMessage(enc(bad)).type, 'invalid', bad);
  }
  assert.equal(parseMessage(cat('["k"]--IMG--', 'x')).type, 'invalid');
  assert.equal(parseMessage(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])).type, 'invalid'); // not UTF-8
});

test('imageType sniffs JPEG and PNG', () => {
  assert.equal(imageType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg');
  assert.equal(imageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'image/png');
  assert.equal(imageType(enc('GIF89a')), '');
});

test('imageDigest tells equal images from different ones', () => {
  assert.equal(imageDigest(enc('frame one')), imageDigest(enc('frame one')));
  assert.notEqual(imageDigest(enc('frame one')), imageDigest(enc('frame onf')));
});
