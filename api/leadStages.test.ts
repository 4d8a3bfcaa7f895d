// A lead's stage and tags (docs/automations.md, "Stages and tags"): PATCH
// sets a stage of the tenant's list and the whole list of tags, each change
// writing its event once and a no-op none; the lead list filters by both; the
// tenant's list of stages is a setting that refuses to drop a stage leads
// still have.
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { type AppState } from './state';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { testApp, type Agent } from '../test/helpers/api';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('lead_stages_api');
let ds: DataSource;
let app: Koa<AppState>;
let t: TenantFixture;
let owner: Agent;
let viewer: Agent;

const customer = () => t.customers[0]!.id;

beforeAll(async () => {
  ds = suite.ds;
  app = testApp(ds);
  t = await createTenant(ds, { customers: 1 });
  [owner, viewer] = await signedInMembers(ds, app, t, ['owner', 'viewer']);
});

async function newLead(email = `${newId('usr')}@lead.example`): Promise<string> {
  const id = newId('lead');
  await withTenant(ds, t.tenant.id, (m) =>
    m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
      id,
      customer(),
      email,
    ]),
  );
  return id;
}

/** The lead's stage and tag events, oldest first. */
async function eventsOf(leadId: string): Promise<{ type: string; properties: Record<string, unknown>; dedupe_key: string }[]> {
  return withTenant(
    ds,
    t.tenant.id,
    (m) =>
      m.query("SELECT type, properties, dedupe_key FROM analytics_events WHERE lead_id = $1 AND type IN ('lead.stage_changed', 'lead.tagged') ORDER BY seq", [
        leadId,
      ]) as Promise<{ type: string; properties: Record<string, unknown>; dedupe_key: string }[]>,
  );
}

const patch = (id: string, body: object) => owner.patch(`/api/leads/${id}`).set('X-Customer-Id', customer()).send(body);

describe('PATCH /api/leads/:id stage and tags', () => {
  it('sets a stage of the tenant, writing one event per change and none for the same stage again', async () => {
    const id = await newLead();
    expect((await owner.get(`/api/leads/${id}`).set('X-Customer-Id', customer())).body).toMatchObject({ stage: 'new', tags: [] });
    const res = await patch(id, { stage: 'interested' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stage: 'interested' });
    expect((await patch(id, { stage: 'interested' })).status).toBe(200);
    expect((await patch(id, { stage: 'won' })).status).toBe(200);
    const events = await eventsOf(id);
    expect(events.map((e) => e.properties)).toEqual([
      { from: 'new', to: 'interested' },
      { from: 'interested', to: 'won' },
    ]);
    expect(events.every((e) => /^stage:evt_[0-9a-z]{26}$/.test(e.dedupe_key))).toBe(true);
    const audit = await owner.get('/api/audit?action=lead_stage_changed');
    expect((audit.body as { data: { targetId: string }[] }).data.filter((e) => e.targetId === id)).toHaveLength(2);
  });

  it('refuses a stage the tenant does not have with a 400, and changes nothing', async () => {
    const id = await newLead();
    const res = await patch(id, { stage: 'closed', company: 'Acme' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain("is not one of the tenant's lead stages");
    expect((await owner.get(`/api/leads/${id}`).set('X-Customer-Id', customer())).body).toMatchObject({ stage: 'new', company: '' });
    expect(await eventsOf(id)).toEqual([]);
  });

  it('takes the whole list of tags: one event per tag added or removed, none when the list is the same', async () => {
    const id = await newLead();
    expect((await patch(id, { tags: ['vip', 'q3'] })).body).toMatchObject({ tags: ['q3', 'vip'] });
    expect((await patch(id, { tags: ['vip', 'q3'] })).status).toBe(200);
    expect((await patch(id, { tags: ['vip', 'partner:acme'] })).body).toMatchObject({ tags: ['partner:acme', 'vip'] });
    const events = await eventsOf(id);
    expect(events.map((e) => [e.properties.tag, e.properties.added]).sort()).toEqual([
      ['partner:acme', true],
      ['q3', false],
      ['q3', true],
      ['vip', true],
    ]);
    expect(events.every((e) => /^tags:evt_[0-9a-z]{26}:[+-]/.test(e.dedupe_key))).toBe(true);
  });

  it('refuses a malformed or repeated tag with a 400 naming the field', async () => {
    const id = await newLead();
    for (const tags of [['Has Space'], ['a', 'a'], Array.from({ length: 51 }, (_, i) => `t${i}`)]) {
      const res = await patch(id, { tags });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('tags');
    }
    expect(await eventsOf(id)).toEqual([]);
  });

  it('is refused to a member who may only read leads', async () => {
    const id = await newLead();
    expect((await viewer.patch(`/api/leads/${id}`).set('X-Customer-Id', customer()).send({ stage: 'won' })).status).toBe(403);
  });
});

describe('GET /api/leads by stage and tag', () => {
  it('lists the leads in a stage, with a tag', async () => {
    const [x, y] = [await newLead(), await newLead()];
    await patch(x, { stage: 'meeting', tags: ['filter-me'] });
    await patch(y, { stage: 'meeting' });
    const byStage = await owner.get('/api/leads?stage=meeting').set('X-Customer-Id', customer());
    expect((byStage.body as { data: { id: string }[] }).data.map((l) => l.id).sort()).toEqual([x, y].sort());
    const byTag = await owner.get('/api/leads?tag=filter-me&stage=meeting').set('X-Customer-Id', customer());
    expect((byTag.body as { data: { id: string }[] }).data.map((l) => l.id)).toEqual([x]);
    expect((await owner.get('/api/leads?tag=Not%20A%20Tag').set('X-Customer-Id', customer())).status).toBe(400);
  });

  it("answers the tenant's stages to whoever reads leads", async () => {
    const res = await viewer.get('/api/leads/stages');
    expect(res.status).toBe(200);
    expect((res.body as { data: string[] }).data).toContain('new');
  });
});

describe("the tenant's lead stages", () => {
  it('reads and replaces the list, refusing to drop a stage leads still have (409) and a list without "new"', async () => {
    expect((await owner.get('/api/settings')).body).toMatchObject({ leadStages: ['new', 'interested', 'meeting', 'won', 'lost'] });
    const id = await newLead();
    await patch(id, { stage: 'lost' });
    const refused = await owner.patch('/api/settings').send({ leadStages: ['new', 'qualified', 'won'] });
    expect(refused.status).toBe(409);
    expect((refused.body as { error: { code: string; message: string } }).error).toMatchObject({ code: 'stage_in_use' });
    expect((refused.body as { error: { message: string } }).error.message).toContain('"lost"');
    for (const leadStages of [[], ['won'], ['new', 'new'], ['new', 'Bad Stage']])
      expect((await owner.patch('/api/settings').send({ leadStages })).status).toBe(400);
    // Move the lead first; then the stage may go.
    await withTenant(ds, t.tenant.id, (m) => m.query("UPDATE leads SET stage = 'new' WHERE stage NOT IN ('new', 'won')"));
    const ok = await owner.patch('/api/settings').send({ leadStages: ['new', 'qualified', 'won'] });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ leadStages: ['new', 'qualified', 'won'] });
    expect((await patch(id, { stage: 'qualified' })).status).toBe(200);
    expect((await patch(id, { stage: 'lost' })).status).toBe(400);
    expect((await viewer.patch('/api/settings').send({ leadStages: ['new'] })).status).toBe(403);
  });
});
