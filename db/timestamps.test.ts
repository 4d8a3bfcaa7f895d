// The timestamptz reader gives the same values node-postgres's own parser
// gives, for what PostgreSQL really sends in several session time zones, and
// takes its fast path for the form a UTC session sends.
import pg, { type Client } from 'pg';
import { createDataSource } from './dataSource';
import { fastMillis, nodePostgresTimestamptz, parseTimestamptz } from './timestamps';
import { connect, createTestDatabase, type TestDatabase } from '../test/helpers/database';

let db: TestDatabase;
let c: Client;

beforeAll(async () => {
  db = await createTestDatabase('timestamps');
  c = await connect(db.ownerUrl);
});

afterAll(async () => {
  await c?.end();
  await db?.drop();
});

const FIXED = [
  '2026-11-23 08:33:19.513412+00',
  '2024-02-29 23:59:59.999999+00',
  '2026-01-01 00:00:00.5+00',
  '1970-01-01 00:00:00+00',
  '1900-01-01 00:00:00+00',
  '0050-06-01 12:00:00+00',
  '0044-03-15 12:00:00+00 BC',
  '9999-12-31 23:59:59.9+00',
  'infinity',
  '-infinity',
];

/** Every value as PostgreSQL writes it in the session's time zone: the fixed ones, now() and 500 random instants with microseconds. */
async function sent(zone: string): Promise<string[]> {
  await c.query(`SET TIME ZONE '${zone}'`);
  const fixed = await c.query<{ t: string }>('SELECT v::timestamptz::text AS t FROM unnest($1::text[]) v', [FIXED]);
  const random = await c.query<{ t: string }>(
    `SELECT (timestamptz '1901-01-01 00:00:00+00' + random() * interval '200 years')::text AS t FROM generate_series(1, 500)
     UNION ALL SELECT now()::text`,
  );
  return [...fixed.rows, ...random.rows].map((r) => r.t);
}

const asComparable = (v: unknown) => (v instanceof Date ? v.getTime() : v);

describe('parseTimestamptz', () => {
  it.each(['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Asia/Kathmandu', 'America/Los_Angeles', 'Africa/Monrovia'])(
    'reads what a session in %s sends as node-postgres would',
    async (zone) => {
      const values = await sent(zone);
      for (const text of values) {
        const ours = parseTimestamptz(text);
        expect([text, asComparable(ours)]).toEqual([text, asComparable(nodePostgresTimestamptz(text))]);
        expect(ours instanceof Date || typeof ours === 'number').toBe(true);
      }
    },
  );

  it('takes the fast path for the UTC form and leaves BC, infinity, early years and offsets in seconds to the original', async () => {
    const utc = await sent('UTC');
    const fast = utc.filter((t) => fastMillis(t) !== undefined);
    // Every value but the year-50, BC and infinity ones.
    expect(fast.length).toBe(utc.length - 4);
    expect(utc.filter((t) => fastMillis(t) === undefined).sort()).toEqual(['-infinity', '0044-03-15 12:00:00+00 BC', '0050-06-01 12:00:00+00', 'infinity']);
    // Monrovia's time until 1972 was 44 minutes and 30 seconds behind UTC.
    await c.query("SET TIME ZONE 'Africa/Monrovia'");
    const lmt = (await c.query<{ t: string }>("SELECT (timestamptz '1950-01-01 00:00:00+00')::text AS t")).rows[0]!.t;
    expect(lmt).toMatch(/-00:44:30$/);
    expect(fastMillis(lmt)).toBeUndefined();
    expect(fastMillis('2026-11-23 08:33:19.513412+05:30')).toBe(Date.UTC(2026, 10, 23, 3, 3, 19, 513));
    for (const malformed of ['2026-11-23T08:33:19+00', '2026-11-23 08:33:19.+00', '2026-11-23 08:33:19', '2026-1x-23 08:33:19+00', '2026-11-23 08:33:19+0']) {
      expect([malformed, fastMillis(malformed)]).toEqual([malformed, undefined]);
    }
  });

  it('is what every pg client of a process with a data source reads timestamptz with', async () => {
    createDataSource({ url: db.ownerUrl, applicationName: 'tenantflow-test' });
    expect(pg.types.getTypeParser(1184, 'text')).toBe(parseTimestamptz);
    await c.query("SET TIME ZONE 'UTC'");
    const { rows } = await c.query<{ t: Date; text: string }>("SELECT timestamptz '2026-11-23 08:33:19.513412+00' AS t, 'x' AS text");
    expect(rows[0]!.t).toEqual(new Date(Date.UTC(2026, 10, 23, 8, 33, 19, 513)));
  });
});
