// The console's only door to the server: every call carries the signed-in key as
// `Authorization: Bearer <key>`; a 401 ends the session and sends the user back to sign-in.

const KEY_STORAGE = 'kairos.api_key';

export type Role = 'viewer' | 'decision' | 'operator' | 'admin';

export interface WhoAmI {
  id: string;
  name: string;
  role: Role;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

// The key lives in sessionStorage only: never in a cookie, the URL or localStorage.
export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // Storage refused (private mode): the session then lasts as long as the page.
  }
}

type Listener = (message: string) => void;
const unauthorizedListeners = new Set<Listener>();

// Called when the server answers 401 to a call made with the stored key.
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;  // objects are sent as JSON, strings as they are
  contentType?: string;
  signal?: AbortSignal;
  key?: string;  // sign-in tries a key before it is stored
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const key = opts.key ?? storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] = opts.contentType ?? (typeof opts.body === 'string' ? 'text/plain' : 'application/json');
  }
  let res: Response;
  try {
    res = await fetch(path, { method: opts.method ?? 'GET', headers, body, signal: opts.signal, cache: 'no-store' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server cannot be reached. Is kairos serve running?');
  }
  if (res.status === 401 && opts.key === undefined) {
    storeKey(null);
    const message = 'Your session ended: the server no longer accepts this API key. Sign in again.';
    unauthorizedListeners.forEach((l) => l(message));
  }
  return res;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = 'http_' + res.status;
  let message = `${res.status} ${res.statusText}`;
  let field: string | undefined;
  let body: unknown;
  try {
    body = await res.json();
    const err = (body as { error?: { code?: string; message?: string; field?: string } }).error;
    if (err) {
      code = err.code ?? code;
      message = err.message ?? message;
      field = err.field;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  if (res.status === 403) message = 'Your role may not do this. ' + message;
  return new ApiError(res.status, code, message, field, body);
}

export async function apiJson<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts);
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

export async function apiText(path: string, opts: RequestOptions = {}): Promise<string> {
  const res = await send(path, opts);
  if (!res.ok) throw await errorOf(res);
  return res.text();
}

// The raw response, for callers that read error bodies themselves (the config editor).
export async function apiRaw(path: string, opts: RequestOptions = {}): Promise<Response> {
  return send(path, opts);
}

// viewer ⊂ decision ⊂ admin; viewer ⊂ operator ⊂ admin.
export function roleAllows(role: Role | undefined, need: Role): boolean {
  if (!role) return false;
  if (role === 'admin' || need === 'viewer') return true;
  return role === need;
}

export function enc(id: string): string {
  return encodeURIComponent(id);
}
