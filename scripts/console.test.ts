// The console's production server (web/serve.js over the SvelteKit build) as
// a deployment runs it, against a stand-in API that records what the console
// sends: the browser defenses on its answers (docs/security.md, "Browser and
// deployment defenses").
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import { freePort, waitForPort } from './lib/net';
import { webBuildStale } from './lib/platform';
import { ROOT } from './lib/tools';

jest.setTimeout(180_000);

const SECRET = 'console-test-secret-0123456789';

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

let api: http.Server;
let apiUrl: string;
const seen: Recorded[] = [];
const consoles: ChildProcess[] = [];

beforeAll(async () => {
  if (webBuildStale()) {
    const build = spawnSync('npm', ['run', '--silent', 'build:web'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`the console build failed:\n${build.stdout}${build.stderr}`);
  }
  // The API, as far as sign-in goes: every attempt fails (the console only relays it).
  api = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(req.url === '/api/auth/login' ? 401 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: req.url === '/api/auth/login' ? 'invalid_credentials' : 'not_found', message: 'no' } }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const child of consoles) child.kill('SIGTERM');
  await new Promise((resolve) => api?.close(resolve));
});

interface Console {
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** `node web/serve.js` as the launcher and the web image start it. */
async function startConsole(env: Record<string, string> = {}): Promise<Console> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'web', 'serve.js')], {
    cwd: path.join(ROOT, 'web'),
    // As the launcher and the web image set it (serve.js defaults a missing X-Forwarded-Proto to http).
    env: {
      PATH: process.env.PATH,
      API_URL: apiUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      PROTOCOL_HEADER: 'x-forwarded-proto',
      CONSOLE_SHARED_SECRET: SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  consoles.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = await Promise.race([waitForPort(port, 30_000).then(() => true), exited.then(() => false)]);
  if (!started) return { url: '', output: () => out, exited };
  return { url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

function expectFramingAndSniffingRefused(res: Response) {
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('same-origin');
}

describe('browser defenses', () => {
  it('sends a nonce-based CSP on pages and refuses framing and sniffing on every answer', async () => {
    const c = await startConsole();
    const pages = [await fetch(`${c.url}/login`), await fetch(`${c.url}/login`), await fetch(`${c.url}/no-such-page`)];
    expect(pages.map((r) => r.status)).toEqual([200, 200, 404]);
    const nonces = new Set<string>();
    for (const res of pages) {
      const csp = res.headers.get('content-security-policy') ?? '';
      const scriptSrc = /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1] ?? '';
      expect(scriptSrc).toMatch(/^'self' 'nonce-[A-Za-z0-9+/=]+'$/);
      nonces.add(scriptSrc);
      expect(csp).toMatch(/default-src 'self'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(csp).toMatch(/base-uri 'self'/);
      expectFramingAndSniffingRefused(res);
      // SvelteKit's inline bootstrap carries this response's nonce; no other inline script is there.
      const html = await res.text();
      const nonce = /'nonce-([^']+)'/.exec(scriptSrc)![1];
      const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((m) => m[1]);
      expect(inline.length).toBeGreaterThan(0);
      for (const attrs of inline) expect(attrs).toContain(`nonce="${nonce}"`);
    }
    expect(nonces.size).toBe(3); // a fresh nonce each time

    // Static assets too.
    const html = await (await fetch(`${c.url}/login`)).text();
    const asset = /(?:href|src|import\()=?"?(\/_app\/immutable\/[^"'\s)]+\.js)/.exec(html)?.[1] ?? /"(\.?\/_app\/immutable\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeTruthy();
    const res = await fetch(new URL(asset!, `${c.url}/login`));
    expect(res.status).toBe(200);
    expectFramingAndSniffingRefused(res);
  });
});

describe('deployment', () => {
  it('refuses to start with the Compose file’s placeholder secret', async () => {
    const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    const placeholder = /CONSOLE_SHARED_SECRET: \$\{CONSOLE_SHARED_SECRET:-([^}]+)\}/.exec(compose)![1]!;
    for (const weak of [placeholder, 'short']) {
      const c = await startConsole({ CONSOLE_SHARED_SECRET: weak });
      expect(c.url).toBe('');
      await expect(c.exited).resolves.toBe(1);
      expect(c.output()).toMatch(/CONSOLE_SHARED_SECRET is a published default or shorter than 16 characters/);
    }
  });

  /** Signs in through the console's form as a browser behind `forwardedFor` would, and answers what the API was told. */
  async function signInThrough(c: Console, forwardedFor: string) {
    const from = seen.length;
    await fetch(`${c.url}/login`, {
      method: 'POST',
      headers: { origin: c.url, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
      body: 'email=someone%40example.test&password=wrong+password',
      redirect: 'manual',
    });
    const login = seen.slice(from).find((r) => r.url === '/api/auth/login');
    expect(login).toBeDefined();
    return { forwardedFor: login!.headers['x-forwarded-for'], secret: login!.headers['x-tenantflow-console'] };
  }

  it('names its own peer as the client unless told to trust a proxy’s header', async () => {
    // Reached directly: a browser's own X-Forwarded-For is not believed.
    const direct = await startConsole();
    await expect(signInThrough(direct, '203.0.113.7')).resolves.toEqual({ forwardedFor: '127.0.0.1', secret: SECRET });
  });

  it('behind a trusted proxy, names the address the proxy appended (not one the browser made up)', async () => {
    const proxied = await startConsole({ ADDRESS_HEADER: 'X-Forwarded-For', XFF_DEPTH: '1' });
    // The browser claimed 198.51.100.1; the proxy appended the peer it saw.
    await expect(signInThrough(proxied, '198.51.100.1, 203.0.113.7')).resolves.toEqual({ forwardedFor: '203.0.113.7', secret: SECRET });
    await expect(signInThrough(proxied, '203.0.113.8')).resolves.toEqual({ forwardedFor: '203.0.113.8', secret: SECRET });
  });
});
