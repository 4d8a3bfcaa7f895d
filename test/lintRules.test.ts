// The project's own lint rules (eslint/tenantflow.js): each refuses what it is
// for and lets the rest through. ESLint does not read the console (web/) or the
// repository's plain JavaScript, so the comment rule's pattern is checked over
// those files here.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RuleTester, type Rule } from 'eslint';
import tseslint from 'typescript-eslint';

// eslint/tenantflow.js is CommonJS without types: this is the part used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tenantflow = require('../eslint/tenantflow.js') as {
  rules: { 'sql-owner': Rule.RuleModule; 'comment-refs': Rule.RuleModule };
  FORBIDDEN_REFERENCE: RegExp;
  TABLE_OWNERS: Record<string, string>;
  ACT_MODULES: Record<string, string[]>;
};

// The references the rule refuses, assembled from parts so that this file's
// own text, read by other tools that look for them, does not carry them.
const ISSUE = ['iss', 'ue'].join('');
const SPEC = ['spec', '§'].join(' ');
const SEED = ['seed', '00'].join(' ');

const root = path.resolve(__dirname, '..');
const at = (file: string) => path.join(root, file);
const settings = { tenantflow: { root } };

const tester = new RuleTester({ languageOptions: { ecmaVersion: 'latest', sourceType: 'module' } });

describe('tenantflow/sql-owner', () => {
  tester.run('sql-owner', tenantflow.rules['sql-owner'], {
    valid: [
      // The owner writes and reads its own table first, and joins others.
      { code: "m.query('UPDATE enrollments SET status = $1 WHERE id = $2', [s, id]);", filename: at('db/enrollments.ts'), settings },
      { code: "m.query('DELETE FROM enrollments WHERE id = $1', [id]);", filename: at('db/enrollments.ts'), settings },
      {
        code: 'm.query(`SELECT e.id, l.email FROM enrollments e JOIN leads l ON l.id = e.lead_id WHERE e.campaign_id = ${p}`);',
        filename: at('db/enrollments.ts'),
        settings,
      },
      // An act module writes the families its one statement spans.
      {
        code: "m.query('WITH s AS (INSERT INTO inbox_send_slots (inbox_id) VALUES ($1)) UPDATE billing_accounts SET sends = sends + 1');",
        filename: at('db/sends.ts'),
        settings,
      },
      // A repository call on an entity in the module that owns its table; entities of no listed table anywhere.
      { code: 'm.find(User, { where: { id } });', filename: at('db/users.ts'), settings },
      { code: 'm.getRepository(Role);', filename: at('db/tenantRoles.ts'), settings },
      { code: 'm.find(Widget, {});', filename: at('services/access/users.ts'), settings },
      // Outside db/: calls to db/ modules and text that merely mentions a table's name.
      { code: 'await listCampaignEnrollments(m, { campaignId });', filename: at('services/outreach/campaigns.ts'), settings },
      { code: "throw new Error('no enrollments left to send');", filename: at('activities/enrollLead.ts'), settings },
    ],
    invalid: [
      {
        code: "m.query('SELECT * FROM enrollments WHERE id = $1', [id]);",
        filename: at('services/outreach/campaigns.ts'),
        settings,
        errors: [{ messageId: 'outside', data: { table: 'enrollments', owner: 'db/enrollments.ts' } }],
      },
      {
        code: 'm.query(`UPDATE leads SET status = ${s} WHERE id = $1`);',
        filename: at('activities/enrollLead.ts'),
        settings,
        errors: [{ messageId: 'outside', data: { table: 'leads', owner: 'db/leads.ts' } }],
      },
      {
        code: "ctx.db.query('INSERT INTO messages (id) VALUES ($1)');",
        filename: at('api/routes/messages.ts'),
        settings,
        errors: [{ messageId: 'outside', data: { table: 'messages', owner: 'db/messages.ts' } }],
      },
      {
        code: "m.query('UPDATE enrollments SET status = $1 WHERE campaign_id = $2');",
        filename: at('db/campaigns.ts'),
        settings,
        errors: [{ messageId: 'write', data: { file: 'db/campaigns.ts', table: 'enrollments', owner: 'db/enrollments.ts' } }],
      },
      {
        code: "m.query('SELECT e.id FROM enrollments e JOIN campaigns c ON c.id = e.campaign_id');",
        filename: at('db/campaigns.ts'),
        settings,
        errors: [{ messageId: 'read', data: { file: 'db/campaigns.ts', table: 'enrollments', owner: 'db/enrollments.ts' } }],
      },
      {
        // An act module may write only the families of its act.
        code: "m.query('UPDATE leads SET status = $1');",
        filename: at('db/sendQuota.ts'),
        settings,
        errors: [{ messageId: 'write', data: { file: 'db/sendQuota.ts', table: 'leads', owner: 'db/leads.ts' } }],
      },
      {
        code: 'm.find(User, { where: { id } });',
        filename: at('services/access/users.ts'),
        settings,
        errors: [{ messageId: 'entity', data: { entity: 'User', table: 'users', owner: 'db/users.ts' } }],
      },
      {
        code: 'dataSource.manager.getRepository(Role);',
        filename: at('api/routes/roles.ts'),
        settings,
        errors: [{ messageId: 'entity', data: { entity: 'Role', table: 'roles', owner: 'db/tenantRoles.ts' } }],
      },
      {
        code: 'm.findOneBy(User, { id });',
        filename: at('db/memberships.ts'),
        settings,
        errors: [{ messageId: 'entity', data: { entity: 'User', table: 'users', owner: 'db/users.ts' } }],
      },
    ],
  });
});

describe('every table has one owner', () => {
  // A table the map does not name would be unguarded: its SQL could appear anywhere.
  const created = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) =>
        e.isDirectory() ? created(path.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path.join(dir, e.name)] : [],
      )
      .flatMap((file) =>
        [...fs.readFileSync(file, 'utf8').matchAll(/CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([a-z_][a-z0-9_]*)"?/gi)].map((m) =>
          m[1]!.toLowerCase(),
        ),
      );

  it('names every table the migrations create, and only those', () => {
    const tables = [...new Set(created(at('migrations')))].sort();
    expect(tables.length).toBeGreaterThan(30);
    expect(Object.keys(tenantflow.TABLE_OWNERS).sort()).toEqual(tables);
  });

  it('gives each family an existing db/ module, and act modules only known tables', () => {
    for (const owner of new Set(Object.values(tenantflow.TABLE_OWNERS))) expect(fs.existsSync(at(owner))).toBe(true);
    for (const [file, tables] of Object.entries(tenantflow.ACT_MODULES)) {
      expect(fs.existsSync(at(file))).toBe(true);
      for (const t of tables) expect(Object.keys(tenantflow.TABLE_OWNERS)).toContain(t);
    }
  });
});

describe('tenantflow/comment-refs', () => {
  const filename = at('services/outreach/campaigns.ts');
  tester.run('comment-refs', tenantflow.rules['comment-refs'], {
    valid: [
      { code: '// The inbox lock serialises a tenant\'s sends (docs/architecture.md, "Data access").\nconst a = 1;', filename },
      { code: '/** Measured in docs/performance.md. */\nconst a = 1;', filename },
      // Only comments are read: strings and code may say anything.
      { code: `const title = '${ISSUE} 12 and ${SPEC}4 and ${SEED}1 and ../shared';`, filename },
      { code: "import x from '../shared/thing';", filename },
    ],
    invalid: [
      {
        code: `// Keeps the old shape (${ISSUE} 11: tenant-scoped reads).\nconst a = 1;`,
        filename,
        errors: [{ messageId: 'forbidden', data: { match: `${ISSUE} 11` } }],
      },
      { code: `/** Billing (I${ISSUE.slice(1)} 8). */\nconst a = 1;`, filename, errors: [{ messageId: 'forbidden', data: { match: `I${ISSUE.slice(1)} 8` } }] },
      { code: `const a = 1; // the quota of ${SPEC}5.5`, filename, errors: [{ messageId: 'forbidden', data: { match: SPEC } }] },
      { code: `/* the legacy import of ${SEED}1 */\nconst a = 1;`, filename, errors: [{ messageId: 'forbidden', data: { match: `${SEED}1` } }] },
      { code: '// see ../shared/spec/HOUSE_STYLE.md\nconst a = 1;', filename, errors: [{ messageId: 'forbidden', data: { match: '../shared' } }] },
      {
        code: `// ${ISSUE} 3\nconst a = 1;\n// ${SPEC}4\nconst b = 2;`,
        filename,
        errors: [
          { messageId: 'forbidden', line: 1 },
          { messageId: 'forbidden', line: 3 },
        ],
      },
    ],
  });
});

interface Comment {
  line: number;
  text: string;
}

// typescript-eslint's parser, typed for what is read here (its export is typed loosely).
const parseForESLint = tseslint.parser.parseForESLint as unknown as (
  code: string,
  options: object,
) => { ast: { comments?: { value: string; loc: { start: { line: number } } }[] } };

/** The comments of a TypeScript or JavaScript source, with the line each starts on. */
function scriptComments(code: string, firstLine = 1): Comment[] {
  const { ast } = parseForESLint(code, { sourceType: 'module', ecmaVersion: 'latest', range: true, loc: true });
  return (ast.comments ?? []).map((c) => ({ line: c.loc.start.line + firstLine - 1, text: c.value }));
}

const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** The comments of a Svelte component: in its scripts, its markup and its styles. */
function svelteComments(code: string): Comment[] {
  const found: Comment[] = [];
  for (const m of code.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
    found.push(...scriptComments(m[1], lineAt(code, m.index + m[0].indexOf('>') + 1)));
  }
  const markup = code.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, (s) => s.replace(/[^\n]/g, ' '));
  for (const m of markup.matchAll(/<!--([\s\S]*?)-->/g)) found.push({ line: lineAt(markup, m.index), text: m[1] });
  for (const style of markup.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/g)) {
    for (const m of style[1].matchAll(/\/\*([\s\S]*?)\*\//g)) found.push({ line: lineAt(markup, style.index + style[0].indexOf(m[0])), text: m[1] });
  }
  return found;
}

function commentsOf(file: string, code: string): Comment[] {
  return file.endsWith('.svelte') ? svelteComments(code) : scriptComments(code);
}

/** Every comment matching the rule's pattern, as `file:line: match`. */
function forbiddenComments(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const c of commentsOf(file, fs.readFileSync(at(file), 'utf8'))) {
      const match = tenantflow.FORBIDDEN_REFERENCE.exec(c.text);
      if (match) found.push(`${file}:${c.line}: ${match[0]}`);
    }
  }
  return found;
}

const tracked = (...patterns: string[]) =>
  execFileSync('git', ['ls-files', '-z', '--', ...patterns], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);

describe('comments ESLint does not read', () => {
  it('finds a forbidden reference in a script, a component and plain JavaScript', () => {
    fs.mkdirSync(at('.scratch'), { recursive: true });
    const dir = fs.mkdtempSync(at('.scratch/lint-'));
    try {
      const name = path.relative(root, dir);
      fs.writeFileSync(path.join(dir, 'a.ts'), `const s = '${ISSUE} 9'; // fine\n// ${SPEC}4\nexport {};\n`);
      fs.writeFileSync(
        path.join(dir, 'b.svelte'),
        `<script lang="ts">\n  let n = $state(0); // ${ISSUE} 7\n</script>\n\n<!-- ${SEED}2 -->\n<p>{n}</p>\n\n<style>\n  /* ../shared */\n</style>\n`,
      );
      fs.writeFileSync(path.join(dir, 'c.cjs'), `/** I${ISSUE.slice(1)} 3 */\nmodule.exports = {};\n`);
      expect(forbiddenComments([`${name}/a.ts`, `${name}/b.svelte`, `${name}/c.cjs`])).toEqual([
        `${name}/a.ts:2: ${SPEC}`,
        `${name}/b.svelte:2: ${ISSUE} 7`,
        `${name}/b.svelte:5: ${SEED}2`,
        `${name}/b.svelte:9: ../shared`,
        `${name}/c.cjs:1: I${ISSUE.slice(1)} 3`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the console cites docs/… of this repository only', () => {
    const files = tracked('web/src').filter((f) => /\.(svelte|ts|js)$/.test(f));
    expect(files.length).toBeGreaterThan(20);
    expect(forbiddenComments(files)).toEqual([]);
  });

  it("the repository's plain JavaScript cites docs/… of this repository only", () => {
    const files = tracked('*.js', '*.mjs', '*.cjs');
    expect(files).toContain('eslint/tenantflow.js');
    expect(forbiddenComments(files)).toEqual([]);
  });
});
