// docker-compose.yml is validated by Compose itself (`docker compose config`,
// or the standalone docker-compose where the plugin is absent). There is no
// Docker engine on these machines, so images are not built here.
import { spawnSync } from 'node:child_process';
import { ROOT } from './lib/tools';

const hasPlugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;

function compose(args: string[]) {
  return hasPlugin
    ? spawnSync('docker', ['compose', ...args], { cwd: ROOT, encoding: 'utf8' })
    : spawnSync('docker-compose', args, { cwd: ROOT, encoding: 'utf8' });
}

it('is a valid Compose file with every service of the deployment', () => {
  const check = compose(['config', '-q']);
  if (check.error) throw new Error('neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)');
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);
  const services = compose(['config', '--services']).stdout.trim().split('\n').sort();
  expect(services).toEqual(['api', 'backfill-worker', 'migrate', 'postgres', 'temporal', 'temporal-search-attributes', 'temporal-ui', 'web', 'worker'].sort());
});

it('keeps the Temporal UI on this host, read-only, and the session cookie Secure', () => {
  const config = compose(['config']);
  expect(config.status).toBe(0);
  const text = config.stdout;
  const start = text.indexOf('\n  temporal-ui:');
  const next = text.slice(start + 1).search(/\n {2}[a-z]/);
  const ui = text.slice(start, next > 0 ? start + 1 + next : undefined);
  // The UI's published port is bound to 127.0.0.1, never all interfaces
  // (Compose v1 prints the short form, v2 the long one) …
  expect(ui).toMatch(/127\.0\.0\.1:8233:8080|host_ip: 127\.0\.0\.1/);
  expect(ui).not.toMatch(/- "?8233:8080/);
  // … with write actions off, and the API, worker and console mark cookies Secure.
  expect(ui).toMatch(/TEMPORAL_DISABLE_WRITE_ACTIONS: "true"/);
  expect((text.match(/SECURE_COOKIES: "true"/g) ?? []).length).toBeGreaterThanOrEqual(3);
});
