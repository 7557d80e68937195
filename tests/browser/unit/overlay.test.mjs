// Unit tests of deploy/www/js/overlay.mjs and liveinfo.mjs: where shapes go
// over an image (pixel and 0..1 coordinates, the header's width/height as
// strings), what malformed input gives (nothing), and what a tile says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classColour, parseJsonText, shapesFor } from '../../../deploy/www/js/overlay.mjs';
import { LiveInfo, ageText, idTime, rateText, warningTexts } from '../../../deploy/www/js/liveinfo.mjs';

const corners = (b) => [b.x1, b.y1, b.x2, b.y2];

test('list detections in the header\'s pixels are scaled to the image', () => {
  const s = shapesFor({ detection_items: '[[64, 48, 320, 240, 0.91, "person"]]', width: '640', height: '480' }, 320, 240);
  assert.deepEqual(s.boxes.map(corners), [[32, 24, 160, 120]]);
  assert.equal(s.boxes[0].text, 'person 91%');
  assert.deepEqual(s.legend, [{ label: 'person', colour: classColour('person') }]);
});

test('no width/height in the header: pixels are the image\'s own', () => {
  for (const size of [{}, { width: '', height: '' }, { width: '0', height: '0' }, { width: 'x', height: '480' }]) {
    const s = shapesFor({ detection_items: '[[10, 20, 30, 40, 0.5, 3]]', ...size }, 200, 100);
    assert.deepEqual(s.boxes.map(corners), [[10, 20, 30, 40]], JSON.stringify(size));
    assert.equal(s.boxes[0].label, 'class 3');
  }
});

test('0..1 coordinates are fractions of the image, whatever the header says', () => {
  const s = shapesFor({ detection_items: '[[0.5, 0.2, 0.9, 0.8, 0.7, "helmet"]]', width: '1280', height: '720' }, 200, 100);
  assert.deepEqual(s.boxes.map(corners), [[100, 20, 180, 80]]);
});

test('object detections: corner pairs, corner and size, bbox lists', () => {
  const items = [
    { bbox: { x1: 0.5, y1: 0.2, x2: 0.9, y2: 0.8 }, class_name: 'helmet', confidence: 0.77 },
    { bbox: { x: 10, y: 10, width: 40, height: 30 }, class_name: 'vest' },
    { bbox: { xmin: 1, ymin: 2, xmax: 3, ymax: 4 }, name: 'a' },
    { bbox: { left: 5, top: 6, right: 7, bottom: 8 }, label: 'b' },
    { bbox: [9, 10, 11, 12], class_id: 2, score: 0.5 },
    { bbox: { x: 1, y: 1, w: 2, h: 2 } },
  ];
  const s = shapesFor({ detection_items: JSON.stringify(items) }, 200, 100);
  assert.deepEqual(s.boxes.map(corners), [[100, 20, 180, 80], [10, 10, 50, 40], [1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [1, 1, 3, 3]]);
  assert.deepEqual(s.boxes.map((b) => b.text), ['helmet 77%', 'vest', 'a', 'b', 'class 2 50%', 'object']);
});

test('swapped corners are put in order', () => {
  const s = shapesFor({ detection_items: '[[30, 40, 10, 20]]' }, 100, 100);
  assert.deepEqual(s.boxes.map(corners), [[10, 20, 30, 40]]);
});

test('polygons: lists of polygons, one polygon, {x, y} points, pixel and 0..1', () => {
  const s = shapesFor({
    cone_polygons: '[[[20, 20], [120, 20], [120, 100]], [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}]]',
    pole_polygons: '[[0.6, 0.5], [0.9, 0.5], [0.9, 0.9]]',
    width: '600', height: '400',
  }, 300, 200);
  assert.deepEqual(s.polygons.map((p) => [p.label, p.points]), [
    ['cone area', [[10, 10], [60, 10], [60, 50]]],
    ['cone area', [[0, 0], [5, 0], [5, 5]]],
    ['pole area', [[180, 100], [270, 100], [270, 180]]],
  ]);
  assert.deepEqual(s.legend.map((l) => l.label), ['cone area', 'pole area']);
});

test('malformed or empty JSON draws nothing', () => {
  const bad = ['', '   ', '[[1, 2,', 'not json', '{"oops": ', 'null', '42', '"text"', '{}', '[null, 1, "x", [1, 2], {"bbox": "no"}]',
    '[[1, 2, 3, "4"]]', '[[NaN, 1, 2, 3]]', '[[[1, 1], [2, 2]]]'];
  for (const text of bad) {
    const s = shapesFor({ detection_items: text, cone_polygons: text, pole_polygons: text, width: '640', height: '480' }, 320, 240);
    assert.deepEqual(s, { boxes: [], polygons: [], legend: [] }, text);
  }
  assert.deepEqual(shapesFor(undefined, 10, 10), { boxes: [], polygons: [], legend: [] });
  assert.deepEqual(shapesFor({ detection_items: 7 }, 10, 10).boxes, []);
});

test('one bad item does not hide the good ones', () => {
  const s = shapesFor({ detection_items: '[[1, 2, 3], [10, 20, 30, 40, 0.9, "ok"], "x"]' }, 100, 100);
  assert.deepEqual(s.boxes.map((b) => b.label), ['ok']);
});

test('parseJsonText', () => {
  assert.equal(parseJsonText(''), undefined);
  assert.equal(parseJsonText('{'), undefined);
  assert.equal(parseJsonText(null), undefined);
  assert.deepEqual(parseJsonText('[1]'), [1]);
});

test('a class keeps its colour', () => {
  assert.equal(classColour('person'), classColour('person'));
  assert.match(classColour('工人'), /^#[0-9a-f]{6}$/);
});

test('warnings in words', () => {
  assert.deepEqual(warningTexts('["No helmet", "Near machinery"]'), ['No helmet', 'Near machinery']);
  assert.deepEqual(warningTexts('"one"'), ['one']);
  assert.deepEqual(warningTexts('{"zone 1": "no vest"}'), ['zone 1: no vest']);
  assert.deepEqual(warningTexts('worker fell'), ['worker fell']);
  assert.deepEqual(warningTexts(''), []);
  assert.deepEqual(warningTexts('[]'), []);
  assert.deepEqual(warningTexts('null'), []);
});

test('frame rate, age and quiet', () => {
  const info = new LiveInfo();
  assert.equal(info.quiet(1000), false); // nothing yet
  for (let t = 0; t <= 900; t += 100) info.frame(10000 + t);
  assert.equal(Math.round(info.rate(10900)), 10);
  assert.equal(info.quiet(10900 + 4999), false);
  assert.equal(info.quiet(10900 + 5001), true);
  assert.equal(info.rate(10900 + 6000), 0); // all outside the window
  assert.equal(rateText(0), '– fps');
  assert.equal(rateText(9.96), '10.0 fps');
  assert.equal(rateText(25.2), '25 fps');
  assert.equal(ageText(400), '0.4 s');
  assert.equal(ageText(-5), '0.0 s');
  assert.equal(ageText(65000), '65 s');
  assert.equal(ageText(600000), '10 min');
  assert.equal(idTime('1718000000000-3'), 1718000000000);
  assert.equal(idTime(undefined), 0);
});

test('a slow camera goes quiet only after three of its intervals', () => {
  const info = new LiveInfo();
  info.frame(0);
  info.frame(4000); // one frame per 4 s
  assert.equal(info.quiet(4000 + 11000), false);
  assert.equal(info.quiet(4000 + 13000), true);
});
