// Small loopback networking helpers shared by the launcher and the test harness.
import net from 'node:net';

const handedOut = new Set<number>();

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 that stays free for a while.
 *
 * Linux randomises ephemeral ports and can hand a just-closed one straight to
 * the next bind(0) — another freePort() call, or the Temporal dev server
 * picking its internal ports — before our child has bound it. As the Temporal
 * CLI does, we connect to the port and close from the server side, which parks
 * the port in TIME_WAIT: bind(0) skips it for ~60 s, while an explicit bind
 * (Node, PostgreSQL and Go all set SO_REUSEADDR) still succeeds. A port is
 * also never handed out twice by this process.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await reservePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('could not allocate a fresh port');
}

function reservePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address !== 'object') {
        server.close();
        reject(new Error('could not allocate a port'));
        return;
      }
      const client = net.connect({ port: address.port, host: '127.0.0.1' });
      client.on('error', () => undefined);
      client.once('close', () => server.close(() => resolve(address.port)));
      client.once('connect', () => client.resume());
    });
  });
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portOpen(port, host)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
}

/** Polls an HTTP URL until it answers with one of `okStatuses`. */
export async function waitForHttp(url: string, timeoutMs: number, okStatuses = [200]): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (okStatuses.includes(res.status)) return res;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms (last: ${last})`);
}
