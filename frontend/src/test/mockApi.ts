// A stand-in for the server in component tests: routes by method and path, records
// every request so tests can assert what the console asked for.
import { vi } from 'vitest';

export interface Recorded {
  method: string;
  path: string;
  search: string;
  body: unknown;
  headers: Headers;
}

type Handler = (req: Recorded) => { status?: number; body?: unknown; headers?: Record<string, string> } | undefined;

export function mockApi(routes: Record<string, Handler>): Recorded[] {
  const calls: Recorded[] = [];
  vi.stubGlobal('fetch', async (input: Request | string, init?: RequestInit) => {
    const req = typeof input === 'string' ? new Request(new URL(input, window.location.origin), init) : input;
    const url = new URL(req.url);
    const text = await req.text();
    const rec: Recorded = {
      method: req.method,
      path: url.pathname.replace(/^\/api\/v1/, ''),
      search: url.search,
      body: text ? JSON.parse(text) : undefined,
      headers: req.headers,
    };
    calls.push(rec);
    for (const [key, handler] of Object.entries(routes)) {
      const [method, pattern] = key.split(' ') as [string, string];
      const re = new RegExp('^' + pattern.replace(/\{[^}]+\}/g, '[^/]+') + '$');
      if (method === rec.method && re.test(rec.path)) {
        const out = handler(rec);
        if (out) {
          return new Response(out.body === undefined ? null : JSON.stringify(out.body), {
            status: out.status ?? 200,
            headers: { 'content-type': 'application/json', ...out.headers },
          });
        }
      }
    }
    return new Response(JSON.stringify({ error: { code: 'not_found', message: `no mock for ${rec.method} ${rec.path}` } }), {
      status: 404,
      headers: { 'content-type': 'application/json' },
    });
  });
  return calls;
}
