// 7. Inbound mail: answers waiting in an inbox's mailbox on the stack's local
// IMAP server (GreenMail), read by the inbox's mailbox reader — IMAP fetch,
// parse, thread by In-Reply-To, store once with the checkpoint, end the
// enrollment, signal its workflow — per second, against a bare INSERT of the
// same rows in batches of the reader's size. Then the conversation list
// (`GET /api/conversations`, a page of 50) at its most and its latency at
// half of that, under RLS. Reported, not gated.
//
// Each repetition has its own customer, inbox, campaign and leads: the
// enrollments are active rows whose first step was sent (seeded in SQL, no
// workflow runs them), so each answer ends one and the reader's signal is a
// real call that finds no workflow.
import { ImapFlow } from 'imapflow';
import { newId } from '../../db/ids';
import { BenchApi, sinkInbox } from '../lib/api';
import { closedLoop, openLoop } from '../lib/load';
import { createBenchTenant, enrollLeads, generateLeads, inTenant } from '../lib/seed';
import { figure, percentile, ratios } from '../lib/stats';
import { type BenchContext, type LatencyRow, type ResultRow, type Scenario, type ScenarioResult } from '../lib/types';
import { ALWAYS_OPEN } from '../lib/api';

/** The reader's batch: messages stored per transaction (activities/readMailbox.ts). */
const BATCH = 50;

/** A well-formed id of `prefix` that ends in `k` (ids of one base sort by k). */
const idAt = (base: string, k: number) => base + String(k).padStart(11, '0');
const baseOf = (prefix: 'conv' | 'msg') => newId(prefix).slice(0, -11);

interface Seeded {
  customerId: string;
  inboxId: string;
  fromEmail: string;
  campaignId: string;
  /** Each lead's address and the Message-ID of the step it was sent. */
  answers: { email: string; messageId: string }[];
}

export const inbound: Scenario = {
  name: 'inbound',
  title: 'Inbound mail: mailbox sync + threading + signal; the conversation list',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const { stack, sizes } = ctx;
    const n = sizes.inbound;
    const t = await createBenchTenant(stack.ownerDs, 'inbound', ctx.reps);
    const api = new BenchApi(stack.api);
    await api.signIn(t.email);

    const seed = async (rep: number): Promise<Seeded> => {
      const customerId = t.customers[rep]!;
      const inboxId = await sinkInbox(api, customerId, stack.sinkPort);
      const inbox = await api.call<{ fromEmail: string }>('GET', `/api/inboxes/${inboxId}`, customerId);
      const campaign = await api.call<{ id: string }>('POST', '/api/campaigns', customerId, {
        name: `Inbound ${rep}`,
        inboxIds: [inboxId],
        schedule: ALWAYS_OPEN,
      });
      await generateLeads(stack.owner, t, customerId, n, `in${rep}-`);
      await enrollLeads(stack.owner, t, customerId, campaign.id, n);
      const answers = await inTenant(stack.owner, t.tenantId, async (c) => {
        await c.query("UPDATE enrollments SET status = 'active', inbox_id = $2 WHERE campaign_id = $1", [campaign.id, inboxId]);
        // Each enrollment's first step, sent, in its lead's conversation with the inbox.
        await c.query(
          `WITH l AS (SELECT e.id AS enr, e.lead_id, row_number() OVER (ORDER BY e.id) AS k FROM enrollments e WHERE e.campaign_id = $1),
           conv AS (INSERT INTO conversations (tenant_id, id, customer_id, inbox_id, lead_id, subject)
                    SELECT $2, $3 || lpad(k::text, 11, '0'), $4, $5, lead_id, 'Hello' FROM l RETURNING id, lead_id)
           INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, step, status, message_id, subject, body, conversation_id, sent_at)
           SELECT $2, $6 || lpad(l.k::text, 11, '0'), $4, $1, l.enr, l.lead_id, $5, 'outbound', 1, 'accepted',
                  '<bench-out-' || l.k || '.' || $7 || '@agency.example>', 'Hello', 'Hi', conv.id, now()
             FROM l JOIN conv ON conv.lead_id = l.lead_id`,
          [campaign.id, t.tenantId, baseOf('conv'), customerId, inboxId, baseOf('msg'), rep],
        );
        return (
          await c.query(
            `SELECT l.email, m.message_id FROM messages m JOIN leads l ON l.id = m.lead_id
              WHERE m.campaign_id = $1 AND m.direction = 'outbound' ORDER BY m.id`,
            [campaign.id],
          )
        ).rows as { email: string; message_id: string }[];
      });
      return {
        customerId,
        inboxId,
        fromEmail: inbox.fromEmail,
        campaignId: campaign.id,
        answers: answers.map((a) => ({ email: a.email, messageId: a.message_id })),
      };
    };

    // The answers, appended to the inbox's mailbox before the reader is told to read it.
    const fillMailbox = async (s: Seeded) => {
      const imap = new ImapFlow({ host: '127.0.0.1', port: stack.imapPort, secure: false, auth: { user: s.fromEmail, pass: 'bench' }, logger: false });
      await imap.connect();
      try {
        for (const [i, a] of s.answers.entries()) {
          await imap.append(
            'INBOX',
            [
              `From: <${a.email}>`,
              `To: <${s.fromEmail}>`,
              'Subject: Re: Hello',
              `Message-ID: <bench-answer-${i}.${s.inboxId}@lead.example>`,
              `In-Reply-To: ${a.messageId}`,
              `References: ${a.messageId}`,
              `Date: ${new Date().toUTCString()}`,
              'Content-Type: text/plain; charset=utf-8',
              '',
              'Yes, tell me more. '.repeat(10),
              '',
            ].join('\r\n'),
          );
        }
      } finally {
        await imap.logout();
      }
    };

    const stored = async (s: Seeded) =>
      inTenant(stack.owner, t.tenantId, async (c) => {
        const r = await c.query(
          `SELECT (SELECT count(*)::int FROM messages WHERE inbox_id = $1 AND direction = 'inbound') AS stored,
                  (SELECT count(*)::int FROM enrollments WHERE campaign_id = $2 AND status = 'replied') AS stopped`,
          [s.inboxId, s.campaignId],
        );
        return r.rows[0] as { stored: number; stopped: number };
      });

    // The same rows as the reader stored them, inserted bare: one multi-row INSERT per batch, one transaction each.
    const bareInsert = async (s: Seeded): Promise<number> => {
      const rows = await inTenant(stack.owner, t.tenantId, async (c) => {
        const r = await c.query(
          `SELECT customer_id, campaign_id, enrollment_id, lead_id, inbox_id, origin, message_id, subject, body, body_html, from_email, conversation_id
             FROM messages WHERE inbox_id = $1 AND direction = 'inbound' ORDER BY id`,
          [s.inboxId],
        );
        return r.rows as Record<string, string | null>[];
      });
      const base = baseOf('msg');
      const col = (batch: Record<string, string | null>[], k: string) => batch.map((r) => r[k] ?? null);
      const t0 = performance.now();
      for (let i = 0; i < rows.length; i += BATCH) {
        const batch = rows.slice(i, i + BATCH);
        await inTenant(stack.owner, t.tenantId, (c) =>
          c.query(
            `INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, origin, status, message_id, subject, body, body_html, from_email, conversation_id)
             SELECT $1, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, 'inbound', origin, 'received', 'bare-' || message_id, subject, body, body_html, from_email, conversation_id
               FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
                    AS x(id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, origin, message_id, subject, body, body_html, from_email, conversation_id)`,
            [
              t.tenantId,
              batch.map((_, j) => idAt(base, i + j)),
              ...[
                'customer_id',
                'campaign_id',
                'enrollment_id',
                'lead_id',
                'inbox_id',
                'origin',
                'message_id',
                'subject',
                'body',
                'body_html',
                'from_email',
                'conversation_id',
              ].map((k) => col(batch, k)),
            ],
          ),
        );
      }
      const seconds = (performance.now() - t0) / 1000;
      await inTenant(stack.owner, t.tenantId, (c) => c.query("DELETE FROM messages WHERE inbox_id = $1 AND message_id LIKE 'bare-%'", [s.inboxId]));
      return rows.length / seconds;
    };

    const ours: number[] = [];
    const base: number[] = [];
    const notes: string[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      const s = await seed(rep);
      await fillMailbox(s);
      await stack.settle();
      const t0 = performance.now();
      await api.call('PATCH', `/api/inboxes/${s.inboxId}`, s.customerId, {
        imap: { host: '127.0.0.1', port: stack.imapPort, secure: false, user: s.fromEmail, password: 'bench' },
      });
      const deadline = Date.now() + 30 * 60_000;
      let seen = await stored(s);
      while (seen.stored < n && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        seen = await stored(s);
      }
      const seconds = (performance.now() - t0) / 1000;
      if (seen.stored !== n || seen.stopped !== n)
        notes.push(`repetition ${rep + 1}: ${seen.stored} of ${n} answers stored, ${seen.stopped} enrollments stopped`);
      ours.push(seen.stored / seconds);
      base.push(await bareInsert(s));
      ctx.log(`inbound: ${n} answers in ${seconds.toFixed(1)} s (${ours[rep]!.toFixed(0)}/s) vs bare INSERT ${base[rep]!.toFixed(0)} rows/s`);
      // The reader keeps polling its (now quiet) mailbox; stop it so later measurements run on a quiet stack.
      await api.call('PATCH', `/api/inboxes/${s.inboxId}`, s.customerId, { imap: null });
    }
    const rows: ResultRow[] = [
      {
        metric: 'inbound answers through the mailbox reader (IMAP fetch, parse, thread, store with checkpoint, stop, signal)',
        unit: 'msg/s',
        ours: figure(ours),
        baseline: { label: `bare INSERT of the same rows, ${BATCH} per transaction`, value: figure(base) },
        ratio: ratios(ours, base),
      },
    ];

    // The conversation list of the first customer: n conversations, each with its sent step and its answer.
    const list = async (i: number) => {
      await api.call('GET', i % 2 === 0 ? '/api/conversations?limit=50' : '/api/conversations?limit=50&sort=unread', t.customers[0]);
    };
    const max: number[] = [];
    const p50: number[] = [];
    const p99: number[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      const sat = await closedLoop({ concurrency: 10, seconds: sizes.loadSeconds }, list);
      max.push(sat.perSecond);
      const half = await openLoop({ ratePerSecond: sat.perSecond / 2, seconds: sizes.loadSeconds }, list);
      p50.push(percentile(half.latenciesMs, 50));
      p99.push(percentile(half.latenciesMs, 99));
    }
    rows.push({
      metric: `GET /api/conversations (page of 50, latest and unread-first alternately; ${n} conversations), 10 connections`,
      unit: 'req/s',
      ours: figure(max),
    });
    const latencies: LatencyRow[] = [{ label: 'GET /api/conversations at half the maximum rate', p50: figure(p50), p99: figure(p99) }];
    ctx.log(`inbound: conversation list ${figure(max).median.toFixed(0)} req/s, p99 ${figure(p99).median.toFixed(1)} ms at half`);
    return { name: 'inbound', title: this.title, sizes: { answers: n }, rows, latencies, notes };
  },
};
