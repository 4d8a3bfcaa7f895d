// A recording HTTP proxy in front of stripe-mock: every request's method,
// path, Idempotency-Key and form body as it crossed the wire, and a switch to
// drop the answers to some requests after stripe-mock handled them (a crash
// after Stripe acted, seen from the caller).
import http from 'node:http';
import { type AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  body: string;
}

export interface RecordingProxy {
  url: string;
  requests: RecordedRequest[];
  /** Drop the answer to the next `n` requests matching `match` (the upstream still handles them). */
  dropAnswers(match: (r: RecordedRequest) => boolean, n: number): void;
  stop(): Promise<void>;
}

export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream);
  const requests: RecordedRequest[] = [];
  let drop: { match: (r: RecordedRequest) => boolean; n: number } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        body: decodeURIComponent(body.toString('utf8').replace(/\+/g, ' ')),
      };
      requests.push(rec);
      const dropThis = drop && drop.n > 0 && drop.match(rec);
      if (dropThis) drop!.n--;
      const up = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (upRes) => {
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => out.push(c));
          upRes.on('end', () => {
            if (dropThis) return void req.socket.destroy();
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.end(Buffer.concat(out));
          });
        },
      );
      up.on('error', () => req.socket.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    dropAnswers: (match, n) => void (drop = { match, n }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
