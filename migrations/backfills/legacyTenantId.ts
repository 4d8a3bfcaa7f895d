// Bookings imported from the legacy system carry no tenant. Each one's tenant
// is derived over its relations — COALESCE(its service's tenant, its client's
// tenant) — and a booking whose relations name no tenant, or two different
// ones, is an orphan: reported, never assigned. Once none is left: NOT NULL,
// the foreign key to tenants, the composite foreign key (tenant_id, client_id)
// → legacy_clients, an index, and FORCE ROW LEVEL SECURITY on the legacy tables
// (only then may the application role read them).
import { type BackfillDefinition, count, type Sql } from './types';

const DERIVED = `(SELECT CASE WHEN s.tenant_id IS NOT NULL AND c.tenant_id IS NOT NULL AND s.tenant_id <> c.tenant_id THEN NULL
                         ELSE COALESCE(s.tenant_id, c.tenant_id) END
                    FROM (SELECT 1) one
                    LEFT JOIN legacy_services s ON s.id = b.service_id
                    LEFT JOIN legacy_clients c ON c.id = b.client_id)`;

export const legacyTenantId: BackfillDefinition = {
  name: 'legacy-tenant-id',
  title: 'Legacy bookings: tenant',
  description: "Derives legacy_bookings.tenant_id from the booking's service or client, reports orphans, then NOT NULL, the foreign keys and FORCE RLS.",
  scope: 'platform',
  table: 'legacy_bookings',
  keyColumn: 'id',
  column: 'tenant_id',
  async batch(sql, { afterKey, size }) {
    // bigint comes back as a string: keys stay text outside, ordered as numbers here.
    const r = await sql('SELECT id AS k FROM legacy_bookings WHERE ($1::bigint IS NULL OR id > $1::bigint) ORDER BY id LIMIT $2', [afterKey, size]);
    return r.rows.map((row) => String(row.k));
  },
  async update(sql, { afterKey, lastKey }) {
    const r = await sql(
      `UPDATE legacy_bookings b SET tenant_id = ${DERIVED}
        WHERE ($1::bigint IS NULL OR b.id > $1::bigint) AND b.id <= $2::bigint AND b.tenant_id IS NULL AND ${DERIVED} IS NOT NULL`,
      [afterKey, lastKey],
    );
    return r.rowCount ?? 0;
  },
  async remaining(sql) {
    return count(await sql('SELECT count(*)::int AS n FROM legacy_bookings WHERE tenant_id IS NULL'));
  },
  async estimate(sql) {
    // The planner's estimate is enough for a progress bar and costs nothing on a large table.
    const r = await sql("SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = 'legacy_bookings'::regclass");
    const estimated = count(r);
    return estimated > 0 ? estimated : count(await sql('SELECT count(*)::int AS n FROM legacy_bookings'));
  },
  async orphans(sql, { limit }) {
    const r = await sql(
      `SELECT b.id::text AS id, s.tenant_id AS service_tenant, c.tenant_id AS client_tenant, b.service_id, b.client_id
         FROM legacy_bookings b
         LEFT JOIN legacy_services s ON s.id = b.service_id
         LEFT JOIN legacy_clients c ON c.id = b.client_id
        WHERE b.tenant_id IS NULL AND ${DERIVED} IS NULL
        ORDER BY b.id LIMIT $1`,
      [limit],
    );
    return r.rows.map((row) => ({
      key: String(row.id),
      reason:
        row.service_tenant && row.client_tenant
          ? `service ${String(row.service_id)} and client ${String(row.client_id)} belong to different tenants`
          : 'neither a service nor a client names its tenant',
    }));
  },
  finish: [
    { kind: 'not_null', column: 'tenant_id' },
    { kind: 'foreign_key', name: 'legacy_bookings_tenant_fk', columns: ['tenant_id'], references: { table: 'tenants', columns: ['id'] } },
    {
      kind: 'foreign_key',
      name: 'legacy_bookings_client_fk',
      columns: ['tenant_id', 'client_id'],
      references: { table: 'legacy_clients', columns: ['tenant_id', 'id'] },
    },
    { kind: 'index', name: 'legacy_bookings_tenant_idx', columns: ['tenant_id', 'id'] },
    { kind: 'row_level_security', tables: ['legacy_services', 'legacy_clients', 'legacy_bookings'] },
  ],
};

/**
 * Fills the legacy import for tests and the benchmark: `services` services and
 * as many clients spread over the tenants, and `rows` bookings (ids after the
 * highest one there) that name a service, a client, or both of one tenant;
 * the last `orphans` of them name neither. Answers the first and last new id.
 */
export async function generateLegacyBookings(
  sql: Sql,
  opts: { tenantIds: string[]; rows: number; orphans?: number; services?: number },
): Promise<{ firstId: number; lastId: number }> {
  if (opts.tenantIds.length === 0) throw new Error('the legacy import needs at least one tenant');
  const services = opts.services ?? Math.max(opts.tenantIds.length, 50);
  const tenants = opts.tenantIds;
  for (const table of ['legacy_services', 'legacy_clients']) {
    await sql(
      `INSERT INTO ${table} (id, tenant_id, name)
       SELECT k, ($1::uuid[])[1 + (k - 1) % cardinality($1::uuid[])], '${table === 'legacy_services' ? 'service' : 'client'} ' || k
         FROM generate_series(1, $2::int) k ON CONFLICT (id) DO NOTHING`,
      [tenants, services],
    );
  }
  const start = Number((await sql('SELECT coalesce(max(id), 0)::bigint AS n FROM legacy_bookings')).rows[0]!.n);
  const orphans = opts.orphans ?? 0;
  // Service k and client k belong to the same tenant, so "both" never conflicts.
  await sql(
    `INSERT INTO legacy_bookings (id, service_id, client_id, notes)
     SELECT $1::bigint + i,
            CASE WHEN i > $2::int - $3::int THEN NULL WHEN i % 3 IN (0, 2) THEN 1 + (i - 1) % $4::int END,
            CASE WHEN i > $2::int - $3::int THEN NULL WHEN i % 3 IN (1, 2) THEN 1 + (i - 1) % $4::int END,
            'imported booking ' || i
       FROM generate_series(1, $2::int) i`,
    [start, opts.rows, orphans, services],
  );
  return { firstId: start + 1, lastId: start + opts.rows };
}
