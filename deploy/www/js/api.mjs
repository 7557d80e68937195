// api: the page's side of the HTTP API and of the viewer URLs: the token
// (from ?token= or typed in, kept in sessionStorage for this tab only),
// GET /labels with its errors in words, and WebSocket URLs with the label
// and key percent-encoded.

const TOKEN_KEY = 'streamweb.token';

// The token of this tab. A ?token= in the address is taken and removed from
// it (and from the history), so that it is not bookmarked or shared.
export function loadToken() {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given !== null) {
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url);
    if (given.trim()) saveToken(given);
  }
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function saveToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status; // HTTP status, 0 when the server was not reached
  }
}

// FastAPI's "detail": a string, or a list of {loc, msg} for validation errors.
function detailText(body) {
  const d = body?.detail;
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) return d.map((e) => (e?.loc ? `${e.loc.join('.')}: ${e.msg}` : String(e?.msg ?? e))).join('; ');
  return '';
}

async function errorFor(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  const detail = detailText(body) || response.statusText || 'no reason given';
  switch (response.status) {
    case 401: return new ApiError(`The server refused the token: ${detail}`, 401);
    case 429: {
      const wait = response.headers.get('Retry-After');
      return new ApiError(`Too many requests${wait ? `; try again in ${wait} s` : ''} (${detail})`, 429);
    }
    case 503: return new ApiError(`The server cannot reach its store: ${detail}`, 503);
    default: return new ApiError(`The server answered ${response.status}: ${detail}`, response.status);
  }
}

// The labels this token may see, sorted as the server sends them.
export async function fetchLabels(token) {
  let response;
  try {
    response = await fetch(new URL('labels', document.baseURI), {
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(`Cannot reach the server (${e.message})`);
  }
  if (!response.ok) throw await errorFor(response);
  let body;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!Array.isArray(body?.labels) || !body.labels.every((l) => typeof l === 'string')) {
    throw new ApiError('The server sent an unexpected answer to GET /labels', response.status);
  }
  return body.labels;
}

// ws(s)://host/<base>ws/<segment>/<segment>?token=...: each segment
// percent-encoded, so labels with spaces, "?" or non-ASCII letters arrive whole.
export function wsUrl(segments, token) {
  const url = new URL(`ws/${segments.map(encodeURIComponent).join('/')}`, document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.search = `?token=${encodeURIComponent(token)}`;
  return url.href;
}
