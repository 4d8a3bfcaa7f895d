// The project's own lint rules (docs/architecture.md, "Code layout"):
//   sql-owner     each table family's SQL lives in its one db/ module
//   comment-refs  comments point to docs/ of this repository, nothing else
const path = require('node:path');

/**
 * Every table and the db/ module that owns its statements. A table's owner is
 * the only file that writes it, or reads it first (`FROM table` as the first
 * table of a statement that writes nothing); other db/ modules may join it.
 */
const TABLE_OWNERS = {
  tenants: 'db/tenants.ts',
  onboarding_items: 'db/onboarding.ts',
  users: 'db/users.ts',
  memberships: 'db/memberships.ts',
  sessions: 'db/sessions.ts',
  login_failures: 'db/sessions.ts',
  api_tokens: 'db/apiTokens.ts',
  roles: 'db/tenantRoles.ts',
  role_permissions: 'db/tenantRoles.ts',
  invites: 'db/invites.ts',
  customers: 'db/customers.ts',
  audit_log: 'db/auditLog.ts',
  platform_audit_log: 'db/auditLog.ts',
  billing_accounts: 'db/billingAccounts.ts',
  billing_reminders: 'db/billingAccounts.ts',
  credit_grants: 'db/billingAccounts.ts',
  entitlements: 'db/entitlements.ts',
  connect_accounts: 'db/connect.ts',
  connect_account_routes: 'db/connect.ts',
  client_invoices: 'db/connect.ts',
  campaigns: 'db/campaigns.ts',
  campaign_inboxes: 'db/campaigns.ts',
  campaign_sequences: 'db/campaigns.ts',
  sequences: 'db/sequences.ts',
  sequence_steps: 'db/sequences.ts',
  enrollments: 'db/enrollments.ts',
  messages: 'db/messages.ts',
  conversations: 'db/conversations.ts',
  message_attachments: 'db/attachments.ts',
  inbox_mailboxes: 'db/mailboxes.ts',
  leads: 'db/leads.ts',
  inboxes: 'db/inboxes.ts',
  provider_accounts: 'db/inboxes.ts',
  inbox_send_slots: 'db/sendSlots.ts',
  suppressions: 'db/suppressions.ts',
  webhook_events: 'db/webhookEvents.ts',
  idempotency_keys: 'db/idempotencyKeys.ts',
  rate_limits: 'db/rateLimits.ts',
  backfill_batches: 'db/backfills.ts',
  backfill_ddl: 'db/backfills.ts',
  backfill_orphans: 'db/backfills.ts',
  legacy_bookings: 'db/backfills.ts',
  legacy_clients: 'db/backfills.ts',
  legacy_services: 'db/backfills.ts',
  analytics_events: 'db/analyticsEvents.ts',
  publishable_keys: 'db/publishableKeys.ts',
  analytics_exports: 'db/analyticsExports.ts',
  automations: 'db/automations.ts',
  automation_versions: 'db/automations.ts',
  automation_runs: 'db/automationRuns.ts',
  automation_run_steps: 'db/automationRuns.ts',
  notifications: 'db/notifications.ts',
};

/**
 * Modules of one act that writes several families in one statement, and the
 * tables each may write besides its own. A statement that records a fact
 * also writes its analytics event (docs/analytics.md): that INSERT's text is
 * `eventInsert` in db/analyticsEvents.ts, embedded as a CTE, so no module
 * here lists analytics_events.
 */
const ACT_MODULES = {
  // The send: takes the inbox's slot, books the tenant's allowance and moves
  // the enrollment on, in one statement; its acceptance marks the message and
  // counts the send on the enrollment, in one statement.
  'db/sends.ts': ['inbox_send_slots', 'billing_accounts', 'enrollments', 'messages'],
  // The monthly send quota: the tenant's account row, locked, and its plan's limit.
  'db/sendQuota.ts': ['billing_accounts', 'entitlements'],
  // Suppressing an address: listed, its leads marked, its running enrollments
  // (found through those leads) stopped, in the caller's transaction.
  'db/suppressions.ts': ['leads', 'enrollments'],
  // A reply or a bounce: the inbound message (and its conversation), the
  // lead's status and the enrollment's end, in one statement.
  'db/emailEvents.ts': ['messages', 'leads', 'enrollments', 'conversations'],
  // A message joins the conversation of its (inbox, lead) in the statement
  // that records it (found or made by an upsert).
  'db/messages.ts': ['conversations'],
  // An inbound mail: threaded, stored once in its conversation with its
  // attachments, and the lead and enrollment it ends, in the reader's
  // transaction (docs/architecture.md, "Conversations").
  'db/inboundMail.ts': ['messages', 'conversations', 'message_attachments', 'leads', 'enrollments'],
  // Triggering an automation reads the automation and its live version
  // (db/automations.ts writes them); it writes nothing.
  'db/automationTriggers.ts': ['automations', 'automation_versions'],
  // An automation's sealed signing secret, read by the worker that signs its
  // webhook calls (it writes nothing).
  'db/automationSecrets.ts': ['automations'],
};

/** TypeORM entities and their tables: a repository call is a statement too. */
const ENTITY_TABLES = {
  ApiToken: 'api_tokens',
  AuditEntry: 'audit_log',
  Customer: 'customers',
  Membership: 'memberships',
  Role: 'roles',
  RolePermission: 'role_permissions',
  Tenant: 'tenants',
  User: 'users',
};
const ENTITY_CALLS =
  /^(getRepository|find|findOne|findOneBy|findOneOrFail|findOneByOrFail|findBy|findAndCount|save|insert|update|delete|remove|count|countBy|exists|existsBy|upsert|increment|decrement|createQueryBuilder|create|preload|softDelete|restore)$/;

const WRITE = /\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|LOCK\s+TABLE)\s+(?:ONLY\s+)?"?([a-z_][a-z0-9_]*)"?/g;
const READ = /\b(?:FROM|JOIN)\s+(?:ONLY\s+)?"?([a-z_][a-z0-9_]*)"?/g;
const FIRST_READ = /\bFROM\s+(?:ONLY\s+)?"?([a-z_][a-z0-9_]*)"?/;

function relative(context) {
  const root = context.settings?.tenantflow?.root ?? context.cwd ?? process.cwd();
  return path
    .relative(root, context.filename ?? context.getFilename())
    .split(path.sep)
    .join('/');
}

function mayWrite(file, table) {
  return TABLE_OWNERS[table] === file || (ACT_MODULES[file] ?? []).includes(table);
}

/** The tables a piece of SQL text touches: written, read first, or read anywhere. */
function tablesOf(text) {
  const writes = [...text.matchAll(WRITE)].map((m) => m[1]).filter((t) => t in TABLE_OWNERS);
  const first = FIRST_READ.exec(text)?.[1];
  const reads = [...text.matchAll(READ)].map((m) => m[1]).filter((t) => t in TABLE_OWNERS);
  return { writes, firstRead: first && first in TABLE_OWNERS ? first : undefined, reads };
}

const sqlOwner = {
  meta: {
    type: 'problem',
    docs: { description: "Each table family's SQL lives in its db/ module (docs/architecture.md)." },
    schema: [],
    messages: {
      outside: 'SQL on {{table}} belongs in {{owner}}: call a function of that module.',
      write: '{{file}} writes {{table}}, which {{owner}} owns: call a function of that module.',
      read: '{{file}} reads {{table}} first, which {{owner}} owns: read it there, or join it from this module’s own table.',
      entity: 'A repository call on {{entity}} ({{table}}) belongs in {{owner}}.',
    },
  },
  create(context) {
    const file = relative(context);
    const inDb = file.startsWith('db/');
    const checkText = (node, text) => {
      const { writes, firstRead, reads } = tablesOf(text);
      if (!inDb) {
        const table = writes[0] ?? firstRead ?? reads[0];
        if (table) context.report({ node, messageId: 'outside', data: { table, owner: TABLE_OWNERS[table] } });
        return;
      }
      for (const table of writes) {
        if (!mayWrite(file, table)) context.report({ node, messageId: 'write', data: { file, table, owner: TABLE_OWNERS[table] } });
      }
      // A statement that writes is owned by the tables it writes; what it reads
      // (a subquery's FROM) is a join.
      if (writes.length === 0 && firstRead && !mayWrite(file, firstRead)) {
        context.report({ node, messageId: 'read', data: { file, table: firstRead, owner: TABLE_OWNERS[firstRead] } });
      }
    };
    return {
      Literal(node) {
        if (typeof node.value === 'string') checkText(node, node.value);
      },
      TemplateLiteral(node) {
        checkText(node, node.quasis.map((q) => q.value.cooked ?? q.value.raw).join(' ? '));
      },
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier' || !ENTITY_CALLS.test(callee.property.name)) return;
        const arg = node.arguments[0];
        if (!arg || arg.type !== 'Identifier' || !(arg.name in ENTITY_TABLES)) return;
        const table = ENTITY_TABLES[arg.name];
        if (TABLE_OWNERS[table] !== file) context.report({ node, messageId: 'entity', data: { entity: arg.name, table, owner: TABLE_OWNERS[table] } });
      },
    };
  },
};

/** What a comment may not point to: issue numbers, the product spec, its seeds, anything outside the repository. */
const FORBIDDEN_REFERENCE = /issue \d+|spec §|seed 00\d|\.\.\/shared/i;

const commentRefs = {
  meta: {
    type: 'suggestion',
    docs: { description: 'Comments say why in the present and cite docs/ of this repository.' },
    schema: [],
    messages: { forbidden: 'Comments cite docs/… of this repository, never "{{match}}": say the reason here, or move the history to a commit body.' },
  },
  create(context) {
    const source = context.sourceCode ?? context.getSourceCode();
    return {
      Program() {
        for (const comment of source.getAllComments()) {
          const match = FORBIDDEN_REFERENCE.exec(comment.value);
          if (match) context.report({ loc: comment.loc, messageId: 'forbidden', data: { match: match[0] } });
        }
      },
    };
  },
};

module.exports = {
  meta: { name: 'tenantflow' },
  rules: { 'sql-owner': sqlOwner, 'comment-refs': commentRefs },
  TABLE_OWNERS,
  ACT_MODULES,
  FORBIDDEN_REFERENCE,
  tablesOf,
};
