// The one API client of the console. Types come from schema.d.ts, generated from the
// server's OpenAPI document (`npm run gen:api`); nothing here restates a shape by hand.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths as documentPaths } from './schema';

export type Schemas = components['schemas'];
export type ErrorDetail = Schemas['ErrorDetail'];

export const API_BASE = '/api/v1';

/**
 * The document's paths carry the `/api/v1` prefix; the client's base URL does too, so
 * calls name paths as the API reference does (`/projects/{project_id}`).
 */
type Strip<K> = K extends `${typeof API_BASE}${infer Rest}` ? Rest : never;
export type paths = { [K in keyof documentPaths as Strip<K>]: documentPaths[K] };

/** Where the browser goes to sign in, coming back to where it was. */
export function loginUrl(returnTo: string = currentPath()): string {
  return `${API_BASE}/auth/login?return_to=${encodeURIComponent(returnTo)}`;
}

function currentPath(): string {
  const { pathname, search } = window.location;
  return pathname + search;
}

// One refresh at a time: parallel 401s (a page loads several lists) share it, since
// the refresh secret rotates on every use and a second use would end the session.
let refreshing: Promise<boolean> | null = null;
function refreshSession(): Promise<boolean> {
  refreshing ??= fetch(`${API_BASE}/auth/refresh`, { method: 'POST', credentials: 'same-origin' })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      // Let a later expiry refresh again.
      setTimeout(() => (refreshing = null), 0);
    });
  return refreshing;
}

/** Set by the app: what to do when the session is gone for good. */
export const session = {
  onSignedOut: (): void => {
    window.location.assign(loginUrl());
  },
};

// Requests whose 401 means "not signed in" rather than "session expired": /me is how
// the console finds out whether anyone is signed in, so it must not redirect.
const NO_REDIRECT = new Set([`${API_BASE}/me`]);

const retryOn401: Middleware = {
  async onRequest({ request }) {
    // Keep a copy: the body of the original is consumed by the first attempt.
    retained.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    const copy = retained.get(request);
    retained.delete(request);
    if (response.status !== 401 || request.url.includes('/auth/')) return response;
    if (await refreshSession()) {
      const again = await fetch(copy ?? request);
      if (again.status !== 401) return again;
    }
    if (!NO_REDIRECT.has(new URL(request.url, window.location.href).pathname)) {
      session.onSignedOut();
    }
    return response;
  },
};
const retained = new WeakMap<Request, Request>();

// An absolute base: the page's own origin (same-origin cookies), and Request objects
// outside a browser (tests) refuse relative URLs.
const origin = typeof window !== 'undefined' ? window.location.origin : '';
export const api = createClient<paths>({
  baseUrl: origin + API_BASE,
  credentials: 'same-origin',
  // Looked up per request rather than captured once, so tests can stand in for it.
  fetch: (req: Request) => globalThis.fetch(req),
});
api.use(retryOn401);

/** An error from the API, in its one shape, kept whole so forms can place it by field. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: ErrorDetail;
  constructor(status: number, detail: ErrorDetail) {
    super(describeError(detail));
    this.status = status;
    this.detail = detail;
  }
  get field(): string | undefined {
    return this.detail.field ?? undefined;
  }
}

function isErrorBody(v: unknown): v is { error: ErrorDetail } {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && 'message' in e && 'code' in e;
}

/** Turns what openapi-fetch returns into data or a thrown ApiError. */
export async function call<T>(
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let res: { data?: T; error?: unknown; response: Response };
  try {
    res = await p;
  } catch {
    throw new ApiError(0, { code: 'network', message: 'The server could not be reached. Check your connection and try again.' });
  }
  if (res.response.ok) return res.data as T;
  throw toApiError(res.response.status, res.error);
}

export function toApiError(status: number, body: unknown): ApiError {
  if (isErrorBody(body)) return new ApiError(status, body.error);
  const fallback: Record<number, string> = {
    403: 'You do not have permission to do this.',
    404: 'Not found: it may have been deleted, or you have no access to it.',
    412: 'Someone else changed this since you opened it.',
    502: 'The engine did not answer. Try again in a moment.',
  };
  return new ApiError(status, {
    code: 'http_' + status,
    message: fallback[status] ?? `The server answered ${status}. Try again; if it persists, contact support.`,
  });
}

/** Field names as the API sends them, in words for people. */
export function fieldLabel(field: string): string {
  const last = field.split('.').pop() ?? field;
  const words = last.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** "Parallelism: must be between 1 and 64" — the field first when there is one. */
export function describeError(d: ErrorDetail): string {
  if (!d.field) return d.message;
  // Messages often begin with the field's own name; don't say it twice.
  const name = d.field.split('.').pop() ?? d.field;
  const msg = d.message.replace(new RegExp('^' + name + '\\b:?\\s*', 'i'), '');
  return `${fieldLabel(d.field)}: ${msg}`;
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return 'Something went wrong.';
}
