// Makes a fresh machine ready, doing only what is missing, so the README's two
// commands (`npm start`, `npm run test:all`) work on a fresh clone and stay
// quick afterwards:
//   - Debian packages the tools need (Java and Maven for the time-skipping
//     test server; docker-compose to validate docker-compose.yml; with
//     --browser, chromium) when running as root with apt-get;
//   - then `npm run setup` when a tool in .tools/ is missing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setup } from './setup';
import { MissingPrerequisiteError, toolsPresent } from './lib/tools';

interface AptNeed {
  /** Present when any of these commands answers. */
  commands: string[][];
  pkg: string;
  why: string;
}

function answers(cmd: string[]): boolean {
  const [bin, ...args] = cmd;
  if (!bin) return false;
  if (path.isAbsolute(bin)) return fs.existsSync(bin);
  return spawnSync(bin, args, { stdio: 'ignore' }).status === 0;
}

function canApt(): boolean {
  return process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function ensureAptPackages(needs: AptNeed[]): void {
  const missing = needs.filter((n) => !n.commands.some(answers));
  if (!missing.length) return;
  const list = missing.map((n) => n.pkg);
  if (!canApt()) {
    throw new MissingPrerequisiteError(missing.map((n) => `${n.why}: install it with \`apt-get install ${n.pkg}\``).join('\n  - '));
  }
  console.log(`[setup] installing Debian packages: ${list.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...list],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
}

const BASE_NEEDS: AptNeed[] = [
  { commands: [['java', '-version']], pkg: 'openjdk-17-jre-headless', why: 'Java runs the Temporal time-skipping test server and GreenMail' },
  { commands: [['mvn', '-v']], pkg: 'maven', why: 'Maven fetches the Temporal time-skipping test server and GreenMail' },
];
const TEST_NEEDS: AptNeed[] = [
  {
    commands: [
      ['docker', 'compose', 'version'],
      ['docker-compose', 'version'],
    ],
    pkg: 'docker-compose',
    why: 'Compose validates docker-compose.yml in the tests',
  },
];
const BROWSER_NEEDS: AptNeed[] = [{ commands: [[process.env.CHROMIUM_PATH ?? '/usr/bin/chromium']], pkg: 'chromium', why: 'Chromium runs the browser tests' }];

export async function ensureTools(opts: { forTests?: boolean; browser?: boolean } = {}): Promise<void> {
  if (!toolsPresent()) {
    ensureAptPackages(BASE_NEEDS);
    console.log('[setup] some tools are missing; running `npm run setup` first');
    await setup();
  }
  if (opts.forTests) ensureAptPackages(TEST_NEEDS);
  if (opts.browser) ensureAptPackages(BROWSER_NEEDS);
}

if (require.main === module) {
  ensureTools({ forTests: process.argv.includes('--tests'), browser: process.argv.includes('--browser') }).catch((err: unknown) => {
    console.error(err instanceof MissingPrerequisiteError ? `[setup] missing prerequisite: ${err.message}` : err);
    process.exit(1);
  });
}
