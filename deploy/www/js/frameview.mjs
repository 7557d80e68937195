// frameview: one image with its detections drawn over it, as used by a wall
// tile and by the one-camera view. Each frame becomes a Blob and an object
// URL; the previous URL is revoked as soon as the new image is on screen, so
// a view holds one frame however long it runs. Frames that arrive while one
// is being decoded replace each other: a slow view skips, never queues.
import { imageType } from './framing.mjs';
import { drawShapes, shapesFor } from './overlay.mjs';

export class FrameView {
  // element: a .frame element holding an <img> and a <canvas>; legend: a <ul> or null.
  constructor(element, legend = null) {
    this.element = element;
    this.img = element.querySelector('img');
    this.canvas = element.querySelector('canvas');
    this.legend = legend;
    this.url = null;         // object URL of the image on screen
    this.type = '';          // its MIME type, '' if unknown
    this.busy = false;
    this.next = null;        // newest frame waiting for the decoder
    this.skipped = 0;
    this.legendKey = '';
    this.closed = false;
  }

  // show(header, image): resolves true once this frame (or a newer one that
  // replaced it while waiting) is on screen with its overlay, false if the
  // image could not be decoded (the previous frame stays).
  show(header, image) {
    return new Promise((resolve) => {
      if (this.next) {
        this.skipped++;
        this.next.resolve(true);
      }
      this.next = { header, image, resolve };
      if (!this.busy) this.drain();
    });
  }

  async drain() {
    this.busy = true;
    while (this.next) {
      const { header, image, resolve } = this.next;
      this.next = null;
      resolve(await this.decodeAndSwap(header, image));
    }
    this.busy = false;
  }

  async decodeAndSwap(header, image) {
    const type = imageType(image);
    const url = URL.createObjectURL(new Blob([image], type ? { type } : {}));
    const img = new Image();
    img.alt = this.img.alt;
    img.src = url;
    try {
      await img.decode();
    } catch {
      URL.revokeObjectURL(url);
      return false;
    }
    if (this.closed) {
      URL.revokeObjectURL(url);
      return false;
    }
    this.img.replaceWith(img);
    this.img = img;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = url;
    this.type = type;
    const shapes = shapesFor(header, img.naturalWidth, img.naturalHeight);
    drawShapes(this.canvas, shapes, img.naturalWidth, img.naturalHeight);
    this.element.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
    this.element.dataset.boxes = String(shapes.boxes.length);
    this.element.dataset.polygons = String(shapes.polygons.length);
    this.showLegend(shapes.legend);
    return true;
  }

  showLegend(entries) {
    if (!this.legend) return;
    // Rebuilt only when it changes: at 10 fps the same legend comes each frame.
    const key = entries.map((e) => e.label).join('\n');
    if (key === this.legendKey) return;
    this.legendKey = key;
    this.legend.replaceChildren(...entries.map(({ label, colour }) => {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colour;
      li.append(swatch, label);
      return li;
    }));
  }

  // Frees the frame on screen and any on its way: the view is going away.
  close() {
    this.closed = true;
    if (this.next) this.next.resolve(false);
    this.next = null;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
    this.img.removeAttribute('src');
  }
}
