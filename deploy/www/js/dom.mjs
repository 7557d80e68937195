// dom: the few DOM chores the wall and the camera view share.

// A message in words (an error, a notice); hidden when there is none.
export function say(element, text) {
  element.textContent = text;
  element.hidden = !text;
}

// A LiveSocket status on its element: the words, and for styles and tests
// the state (connecting, open, waiting, stopped) and the reconnect count.
export function showConnection(element, { state, text, reconnects }) {
  element.textContent = text;
  element.dataset.state = state;
  element.dataset.reconnects = String(reconnects);
}

// Fills a <ul> with one item per line of text; hidden when there are none.
export function fillList(list, lines) {
  list.replaceChildren(...lines.map((line) => {
    const li = document.createElement('li');
    li.textContent = line;
    return li;
  }));
  list.hidden = lines.length === 0;
}
