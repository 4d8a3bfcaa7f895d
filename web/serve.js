// Serves the console's production build. adapter-node assumes https when no
// protocol header is present; locally we serve plain http, so a missing
// X-Forwarded-Proto defaults to http (a proxy in front still sets its own).
import http from 'node:http';
import { handler } from './build/handler.js';

// The console names its users' addresses to the API with CONSOLE_SHARED_SECRET;
// a published default (docker-compose.yml's placeholder) or a short value
// lets anyone do the same, so the server refuses to start with one (as the
// API does: lib/config.ts, weakConsoleSecret — keep the two rules alike).
const secret = (process.env.CONSOLE_SHARED_SECRET ?? '').trim().toLowerCase();
if (secret && (/change-?me/.test(secret) || secret.length < 16)) {
  console.error(
    'CONSOLE_SHARED_SECRET is a published default or shorter than 16 characters: set a long random value (openssl rand -base64 32), the same for the API',
  );
  process.exit(1);
}

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

// Every answer, pages and static assets alike, refuses framing by another
// site (no clickjacking of "Delete" or "Unsubscribe"), type sniffing, and
// sending the console's URLs (invite tokens sit in paths) to other sites in a
// Referer. Pages also get SvelteKit's Content-Security-Policy (svelte.config.js).
// See docs/security.md, "Browser and deployment defenses".
const SECURITY_HEADERS = {
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

const server = http.createServer((req, res) => {
  req.headers['x-forwarded-proto'] ??= 'http';
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  handler(req, res, () => {
    res.statusCode = 404;
    res.end('not found');
  });
});

server.listen(port, host, () => console.log(`console listening on http://${host}:${port}`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 3000).unref();
  });
}
