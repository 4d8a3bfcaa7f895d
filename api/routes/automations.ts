// Automation routes (docs/automations.md, "Definitions and versions"):
// declarations over services/automations/definitions. Automations are the
// tenant's, optionally one customer's; a member restricted to a customer
// reaches only that customer's, and every other one is the same 404.
import * as automations from '../../services/automations/definitions';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/automations.responses';
import * as S from '../schemas/automations';

const tag = 'automations';
const read = { tag, auth: 'tenant', permission: 'automations.read' } as const;
const write = { tag, auth: 'tenant', permission: 'automations.write', idempotent: true } as const;
const one = { params: { id: { prefix: 'auto', resource: 'automation' } } } as const;
/** A definition every tenant can save: run by hand, it tags the lead it is given. */
const EXAMPLE_DEFINITION = { trigger: { type: 'manual' }, steps: [{ type: 'add_tag', tag: 'welcomed' }] };

export function automationRoutes(r: Routes, deps: automations.DefinitionDeps) {
  r.add(
    { method: 'get', path: '/api/automations', summary: 'List the automations you can reach', ...read, query: listQuery, response: R.automationList },
    ({ access, query }) => automations.listAutomations(access, query),
  );
  r.add(
    {
      method: 'post',
      path: '/api/automations',
      summary: 'Create an automation with its first version (a draft) and webhook secret',
      ...write,
      body: S.automationBody,
      bodyExample: { name: 'Welcome', definition: EXAMPLE_DEFINITION },
      status: 201,
      response: R.createdAutomation,
    },
    ({ access, body }) => automations.createAutomation(access, deps, body),
  );
  r.add({ method: 'get', path: '/api/automations/:id', summary: 'Get an automation', ...read, ...one, response: R.automation }, ({ access, params }) =>
    automations.getAutomation(access, params.id!),
  );
  r.add(
    { method: 'patch', path: '/api/automations/:id', summary: 'Rename an automation', ...write, ...one, body: S.automationPatch, response: R.automation },
    ({ access, params, body }) => automations.renameAutomation(access, params.id!, body.name),
  );
  r.add(
    { method: 'delete', path: '/api/automations/:id', summary: 'Delete an automation, its versions and runs', ...write, ...one, status: 204 },
    ({ access, params }) => automations.deleteAutomation(access, deps, params.id!),
  );
  r.add(
    { method: 'get', path: '/api/automations/:id/versions', summary: "List an automation's versions, newest first", ...read, ...one, response: R.versionList },
    ({ access, params }) => automations.listVersions(access, params.id!),
  );
  r.add(
    { method: 'get', path: '/api/automations/:id/versions/:version', summary: 'Get one version of an automation', ...read, ...one, response: R.version },
    ({ access, params }) => automations.getVersion(access, params.id!, params.version!),
  );
  r.add(
    {
      method: 'post',
      path: '/api/automations/:id/versions',
      summary: 'Save an edit as a new draft version',
      ...write,
      ...one,
      body: S.versionBody,
      bodyExample: { definition: EXAMPLE_DEFINITION },
      status: 201,
      response: R.version,
    },
    ({ access, params, body }) => automations.saveVersion(access, params.id!, body.definition),
  );
  r.add(
    {
      method: 'post',
      path: '/api/automations/:id/publish',
      summary: 'Make a version live (a version that sends messages needs messages.send too)',
      ...write,
      ...one,
      body: S.publishBody,
      response: R.automation,
    },
    ({ access, params, body }) => automations.publishVersion(access, deps, params.id!, body.version),
  );
  r.add(
    { method: 'post', path: '/api/automations/:id/enable', summary: 'Turn the live version’s trigger on', ...write, ...one, response: R.automation },
    ({ access, params }) => automations.setEnabled(access, deps, params.id!, true),
  );
  r.add(
    { method: 'post', path: '/api/automations/:id/disable', summary: 'Turn the trigger off', ...write, ...one, response: R.automation },
    ({ access, params }) => automations.setEnabled(access, deps, params.id!, false),
  );
  r.add(
    {
      method: 'post',
      path: '/api/automations/:id/webhook-secret',
      summary: 'Replace the webhook secret (shown this once; the old one stops working)',
      ...write,
      ...one,
      response: R.webhookSecret,
    },
    ({ access, params }) => automations.rotateWebhookSecret(access, deps, params.id!),
  );
}
