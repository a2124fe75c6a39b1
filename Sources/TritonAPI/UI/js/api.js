// The REST API as the page calls it: the user's token (or, on an open server, a name) on every call,
// errors as {status, code, field, message}.

const TOKEN = 'triton.token';
const USER = 'triton.user';

export const session = {
  get token() { return localStorage.getItem(TOKEN) || ''; },
  get user() { return localStorage.getItem(USER) || ''; },
  save(token, user) {
    if (token) localStorage.setItem(TOKEN, token); else localStorage.removeItem(TOKEN);
    if (user) localStorage.setItem(USER, user); else localStorage.removeItem(USER);
  },
  clear() { localStorage.removeItem(TOKEN); localStorage.removeItem(USER); },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || '';
    this.field = body.field || '';
    this.rule = body.rule || '';
  }
}

export function authHeaders() {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  else if (session.user) headers['X-Triton-User'] = session.user;
  return headers;
}

/** Calls the API; resolves with the parsed JSON (or text), rejects with an ApiError. */
export async function api(path, { method = 'GET', body, reason, accept = 'application/json' } = {}) {
  const headers = { ...authHeaders(), Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (reason) headers['X-Triton-Reason'] = reason;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (error) {
    throw new ApiError(0, { code: 'unreachable', message: 'the server does not answer; is triton serve running?' });
  }
  const type = response.headers.get('Content-Type') || '';
  const payload = type.includes('json') ? await response.json().catch(() => ({})) : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof payload === 'object' ? payload : { message: payload });
  return payload;
}

/** Downloads a file from the API with the user's credentials (a link alone would send none). */
export async function download(path, name) {
  const response = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export const flowPath = (namespace, name) =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/deployflows/${encodeURIComponent(name)}`;
export const instancePath = (namespace, name) =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/instances/${encodeURIComponent(name)}`;
