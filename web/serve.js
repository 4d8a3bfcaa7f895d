// Serves the console's production build. adapter-node assumes https when no
// protocol header is present; locally we serve plain http, so a missing
// X-Forwarded-Proto defaults to http (a proxy in front still sets its own).
import http from 'node:http';
import { handler } from './build/handler.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

const server = http.createServer((req, res) => {
  req.headers['x-forwarded-proto'] ??= 'http';
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
