// main: the page's start and its views: sign-in, the label list (refreshed
// now and then), a label's wall (#/label/<label>) and one camera
// (#/camera/<label>/<key>). The address's #fragment says which view shows,
// so the browser's back button and bookmarks work.
import { ApiError, fetchLabels, forgetToken, loadToken, saveToken } from './api.mjs';
import { CameraView } from './camera.mjs';
import { say } from './dom.mjs';
import { Wall } from './wall.mjs';

const LABELS_REFRESH_MS = 30000;
// A view whose connection fails asks GET /labels whether the token is still good, at most this often.
const TOKEN_CHECK_MS = 5000;

const $ = (selector) => document.querySelector(selector);
const sections = ['#signin', '#home', '#wall', '#camera'];

const app = {
  token: '',
  labels: [],
  view: null,
  refreshTimer: 0,
  lastTokenCheck: 0,
};

const wallHref = (label) => `#/label/${encodeURIComponent(label)}`;
const cameraHref = (label, key) => `#/camera/${encodeURIComponent(label)}/${encodeURIComponent(key)}`;

function show(section) {
  for (const s of sections) $(s).hidden = s !== section;
  $('#signout').hidden = section === '#signin';
  $('#labels').hidden = section === '#signin';
}

function showSignIn(message) {
  stopView();
  clearInterval(app.refreshTimer);
  app.token = '';
  show('#signin');
  say($('#signin-message'), message);
  $('#token').focus();
}

async function signIn(token) {
  say($('#signin-message'), '');
  $('#signin-button').disabled = true;
  try {
    app.labels = await fetchLabels(token);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) forgetToken();
    showSignIn(e.message);
    $('#token').value = e.status === 401 ? '' : token;
    return;
  } finally {
    $('#signin-button').disabled = false;
  }
  saveToken(token);
  app.token = token;
  $('#token').value = '';
  renderLabels();
  clearInterval(app.refreshTimer);
  app.refreshTimer = setInterval(refreshLabels, LABELS_REFRESH_MS);
  route({ labelsFresh: true });
}

function signOut(message = '') {
  forgetToken();
  showSignIn(message);
}

async function refreshLabels() {
  if (!app.token) return;
  const token = app.token;
  try {
    app.labels = await fetchLabels(token);
    say($('#labels-message'), '');
  } catch (e) {
    if (token !== app.token) return;
    if (e.status === 401) return signOut(e.message);
    say($('#labels-message'), `Could not refresh the labels: ${e.message}`);
    return;
  }
  renderLabels();
}

function labelLinks(current) {
  return app.labels.map((label) => {
    const a = document.createElement('a');
    a.href = wallHref(label);
    a.textContent = label;
    a.dataset.label = label;
    if (label === current) a.setAttribute('aria-current', 'page');
    return a;
  });
}

function renderLabels() {
  const current = routeOf(location.hash).label;
  $('#labels').replaceChildren(...labelLinks(current));
  const list = $('#label-list');
  list.replaceChildren(...labelLinks(current).map((a) => {
    const li = document.createElement('li');
    li.append(a);
    return li;
  }));
  $('#no-labels').hidden = app.labels.length > 0;
}

// A view's connection failed: if the token is the reason, say the server's
// words on the sign-in form; otherwise the view keeps retrying.
async function checkToken() {
  const now = Date.now();
  if (now - app.lastTokenCheck < TOKEN_CHECK_MS) return;
  app.lastTokenCheck = now;
  const token = app.token;
  try {
    app.labels = await fetchLabels(token);
    renderLabels();
  } catch (e) {
    if (e.status === 401 && token === app.token) signOut(e.message);
  }
}

function stopView() {
  if (app.view) app.view.stop();
  app.view = null;
}

function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function routeOf(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const label = parts[1] !== undefined ? decode(parts[1]) : null;
  if (parts[0] === 'label' && parts.length === 2 && label) return { name: 'wall', label };
  const key = parts[2] !== undefined ? decode(parts[2]) : null;
  if (parts[0] === 'camera' && parts.length === 3 && label && key) return { name: 'camera', label, key };
  return { name: 'home' };
}

function route({ labelsFresh = false } = {}) {
  if (!app.token) return;
  stopView();
  const r = routeOf(location.hash);
  renderLabels();
  const failed = () => checkToken();
  if (r.name === 'wall') {
    show('#wall');
    app.view = new Wall($('#wall'), { label: r.label, token: app.token, cameraHref, failed });
  } else if (r.name === 'camera') {
    show('#camera');
    app.view = new CameraView($('#camera'), { label: r.label, key: r.key, token: app.token, wallHref, failed });
  } else {
    show('#home');
    document.title = 'streamweb';
    // Opening the list is a reason to look again (unless signing in just did).
    if (!labelsFresh) refreshLabels();
    return;
  }
  document.title = `${r.name === 'camera' ? `${r.label} / ${r.key}` : r.label} – streamweb`;
  app.view.start();
}

$('#signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('#token').value.trim();
  if (token) signIn(token);
  else showSignIn('Enter an access token.');
});
$('#signout').addEventListener('click', () => signOut('Signed out.'));
window.addEventListener('hashchange', () => route());

const token = loadToken();
if (token) signIn(token);
else showSignIn('');
