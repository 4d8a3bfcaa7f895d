// The API in a process of its own (test/servers/api.ts) on a loopback port:
// for suites that measure the process (its memory) or need API processes
// that share nothing but the database.
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface ApiProcess {
  url: string;
  pid: number;
  stop: () => void;
}

/** Starts the API against `databaseUrl`; `nodeArgs` go to node before the script (e.g. a heap cap). */
export async function startApiProcess(databaseUrl: string, nodeArgs: string[] = []): Promise<ApiProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(__dirname, '..', 'servers', 'api.ts'), databaseUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString().split('\n')[0]!) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`test/servers/api.ts exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}
