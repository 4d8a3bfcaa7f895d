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
  expect(services).toEqual(['api', 'migrate', 'postgres', 'temporal', 'temporal-search-attributes', 'temporal-ui', 'web', 'worker'].sort());
});
