// Campaigns, their inboxes and their pinned sequence versions.
import { type EntityManager } from 'typeorm';

// — used by the send path —

/** What a fan-out batch reads of its campaign. */
export interface FanoutCampaignRow {
  status: string;
  sequence_version: number | null;
  /** The first step's delay in the campaign's current sequence version. */
  first_delay_hours: number | null;
}

/**
 * The campaign as a fan-out batch sees it, FOR SHARE: the request that
 * changed it commits first.
 */
export async function readCampaignForFanout(m: EntityManager, campaignId: string): Promise<FanoutCampaignRow | undefined> {
  const [campaign] = (await m.query(
    `SELECT c.status, c.sequence_version,
            (SELECT (st->>'delayHours')::int FROM jsonb_array_elements(s.steps) st ORDER BY (st->>'position')::int LIMIT 1) AS first_delay_hours
       FROM campaigns c LEFT JOIN campaign_sequences s ON s.campaign_id = c.id AND s.version = c.sequence_version
      WHERE c.id = $1 FOR SHARE OF c`,
    [campaignId],
  )) as FanoutCampaignRow[];
  return campaign;
}
