// stripe-mock (installed by `npm run setup`) on a free loopback port: real
// Stripe request shapes without the live API.
import { spawn, type ChildProcess } from 'node:child_process';
import { findStripeMock, stripeMockArgs } from '../../scripts/lib/tools';
import { freePort, waitForPort } from '../../scripts/lib/net';

export async function startStripeMock(): Promise<{ apiBase: string; stop(): Promise<void> }> {
  const bin = findStripeMock();
  if (!bin) throw new Error('stripe-mock is missing: run `npm run setup`');
  const port = await freePort();
  const child: ChildProcess = spawn(bin, stripeMockArgs(port), { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 30_000);
  return {
    apiBase: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
