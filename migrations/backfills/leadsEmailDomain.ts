// leads.email_domain: the lower-cased domain of each lead's address, which the
// per-domain lead stats read. New leads are written with it; this backfill
// fills the older ones tenant by tenant (under each tenant's RLS context), then
// makes it NOT NULL and indexes it for the stats.
import { type BackfillDefinition, count } from './types';

const DOMAIN = "lower(substring(email from '@([^@]+)$'))";

export const leadsEmailDomain: BackfillDefinition = {
  name: 'leads-email-domain',
  title: 'Lead e-mail domains',
  description: "Derives leads.email_domain (the address's lower-cased domain) for every lead, then NOT NULL and an index.",
  scope: 'tenant',
  table: 'leads',
  keyColumn: 'id',
  column: 'email_domain',
  async batch(sql, { tenantId, afterKey, size }) {
    const r = await sql('SELECT id FROM leads WHERE tenant_id = $1::uuid AND ($2::text IS NULL OR id > $2::text) ORDER BY id LIMIT $3', [
      tenantId,
      afterKey,
      size,
    ]);
    return r.rows.map((row) => String(row.id));
  },
  async update(sql, { tenantId, afterKey, lastKey }) {
    const r = await sql(
      `UPDATE leads SET email_domain = ${DOMAIN}
        WHERE tenant_id = $1::uuid AND ($2::text IS NULL OR id > $2::text) AND id <= $3::text
          AND email_domain IS NULL AND ${DOMAIN} IS NOT NULL`,
      [tenantId, afterKey, lastKey],
    );
    return r.rowCount ?? 0;
  },
  async remaining(sql, { tenantId }) {
    return count(await sql('SELECT count(*)::int AS n FROM leads WHERE tenant_id = $1::uuid AND email_domain IS NULL', [tenantId]));
  },
  async estimate(sql, { tenantId }) {
    return count(await sql('SELECT count(*)::int AS n FROM leads WHERE tenant_id = $1::uuid', [tenantId]));
  },
  async orphans(sql, { tenantId, limit }) {
    const r = await sql(`SELECT id FROM leads WHERE tenant_id = $1::uuid AND email_domain IS NULL AND ${DOMAIN} IS NULL ORDER BY id LIMIT $2`, [
      tenantId,
      limit,
    ]);
    return r.rows.map((row) => ({ key: String(row.id), reason: 'the address has no domain' }));
  },
  finish: [
    { kind: 'not_null', column: 'email_domain' },
    { kind: 'index', name: 'leads_email_domain_idx', columns: ['tenant_id', 'customer_id', 'email_domain'] },
  ],
};
