// A campaign's completion writes its `campaign.completed` event
// (docs/analytics.md): the deferred trigger that completes a campaign when its
// last running enrollment ends inserts the event from its UPDATE's
// RETURNING, so the completion and its event commit together, and a
// completion that changes nothing writes nothing. The function is the one of
// migration 1730000008000 with that insert added; the trigger stays as
// migration 1730000011000 made it.
//
// The check runs at commit, and a webhook's transaction clears its tenant
// context before it commits (db/tenantContext.ts, withTenantInTransaction):
// under RLS the campaign was then invisible and never completed. The
// function now works in the tenant of the row it is about — a row that
// could only be written in that tenant's context — and puts the caller's
// context back when it is done.
import { type MigrationInterface, type QueryRunner } from 'typeorm';

const RUNNING_ENROLLMENT = "('pending', 'active', 'paused')";

const WITH_EVENT = `
  CREATE OR REPLACE FUNCTION complete_campaign_when_done() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    row enrollments%ROWTYPE := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    caller text := current_setting('app.tenant_id', true);
  BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.status IN ${RUNNING_ENROLLMENT} OR NEW.status = OLD.status) THEN
      RETURN NULL;
    END IF;
    PERFORM set_config('app.tenant_id', row.tenant_id::text, true);
    -- Only an active campaign completes. Archiving or pausing changes the
    -- campaign first, so its bulk enrollment update stops here per row
    -- instead of scanning the campaign's enrollments once per row.
    IF EXISTS (SELECT 1 FROM campaigns c WHERE c.tenant_id = row.tenant_id AND c.id = row.campaign_id AND c.status = 'active') THEN
      PERFORM pg_advisory_xact_lock(hashtext('campaign-completion:' || row.campaign_id));
      WITH done AS (
        UPDATE campaigns c SET status = 'completed', updated_at = now()
         WHERE c.tenant_id = row.tenant_id AND c.id = row.campaign_id AND c.status = 'active'
           AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = row.tenant_id AND e.campaign_id = row.campaign_id AND e.status IN ${RUNNING_ENROLLMENT})
        RETURNING c.tenant_id, c.id, c.customer_id, c.updated_at)
      INSERT INTO analytics_events (tenant_id, type, occurred_at, customer_id, campaign_id, dedupe_key)
      SELECT d.tenant_id, 'campaign.completed', d.updated_at, d.customer_id, d.id,
             'campaign.completed:' || d.id || ':' || floor(extract(epoch FROM d.updated_at) * 1000)::bigint
        FROM done d
      ON CONFLICT (tenant_id, dedupe_key) DO NOTHING;
    END IF;
    PERFORM set_config('app.tenant_id', coalesce(caller, ''), true);
    RETURN NULL;
  END $$`;

/** The function as migration 1730000008000 made it. */
const BEFORE = `
  CREATE OR REPLACE FUNCTION complete_campaign_when_done() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    row enrollments%ROWTYPE := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.status IN ${RUNNING_ENROLLMENT} OR NEW.status = OLD.status) THEN
      RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.tenant_id = row.tenant_id AND c.id = row.campaign_id AND c.status = 'active') THEN
      RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('campaign-completion:' || row.campaign_id));
    UPDATE campaigns c SET status = 'completed', updated_at = now()
     WHERE c.tenant_id = row.tenant_id AND c.id = row.campaign_id AND c.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = row.tenant_id AND e.campaign_id = row.campaign_id AND e.status IN ${RUNNING_ENROLLMENT});
    RETURN NULL;
  END $$`;

export class CampaignCompletedEvent1730000017100 implements MigrationInterface {
  name = 'CampaignCompletedEvent1730000017100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(WITH_EVENT);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(BEFORE);
  }
}
