// Stages, tags and run records in the running console: a lead's stage and
// tags are set on its page and filter the leads list; the tenant's stages are
// edited on the provider Settings page, which refuses to drop a stage a lead
// is in; a run's page shows its step timeline and follows a live run by
// itself, cancels a queued run, and reruns a failed one (the new run's page
// names the run it reruns). Run rows are written directly
// (test/helpers/automationRows.ts). No page of the walk throws.
import { type Browser, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { insertAutomation, insertFailedRun, insertRunRow, insertStepRows } from '../helpers/automationRows';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let tenant: TenantFixture;
let user: User;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-runs');
  tenant = await createTenant(owner, { name: 'Pipeline Partners', customers: 1 });
  user = await createUser(owner, { name: 'Pia Pipeline' });
  await addMember(owner, tenant, user, 'owner');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

async function signedInPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, env('TF_E2E_CONSOLE_URL'), user.email, PASSWORD);
  return { page, errors };
}

const tenantId = () => tenant.tenant.id;

it("sets a lead's stage and tags, filters the leads by them, and edits the tenant's stages", async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const customer = tenant.customers[0]!.id;
  const leadId = newId('lead');
  await withTenant(owner, tenantId(), (m) =>
    m.query(
      // email_domain too: the browser suite's backfill test may already have made it NOT NULL.
      "INSERT INTO leads (tenant_id, id, customer_id, email, email_domain, first_name, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'sam@lead.example', 'lead.example', 'Sam', 'api')",
      [leadId, customer],
    ),
  );
  const { page, errors } = await signedInPage();
  try {
    await page.goto(`${base}/client/leads/${leadId}?customer=${customer}`);
    await ready(page);
    await page.getByTestId('lead-stage-select').selectOption('meeting');
    await page.getByTestId('lead-tags-input').fill('VIP, q3 , vip');
    await page.getByRole('button', { name: 'Save stage and tags' }).click();
    await page.getByTestId('lead-classified').waitFor();
    await expect(page.getByTestId('lead-stage').textContent()).resolves.toBe('meeting');
    await expect(page.getByTestId('lead-tags-input').inputValue()).resolves.toBe('q3, vip');
    // A tag that cannot be one is named next to the field.
    await page.getByTestId('lead-tags-input').fill('good, not good');
    await page.getByRole('button', { name: 'Save stage and tags' }).click();
    await page.getByText('“not good”: a tag is up to 40').waitFor();

    await page.goto(`${base}/client/leads?customer=${customer}&tag=vip&stage=meeting`);
    await ready(page);
    await expect(page.getByTestId('lead-sam@lead.example').getByTestId('lead-stage').textContent()).resolves.toBe('meeting');
    await page.goto(`${base}/client/leads?customer=${customer}&stage=won`);
    await ready(page);
    await page.getByTestId('leads-empty').waitFor();

    await page.goto(`${base}/provider/settings`);
    await ready(page);
    await page.getByTestId('lead-stages-input').fill('new\nqualified\nwon\nlost');
    await page.getByRole('button', { name: 'Save stages' }).click();
    await expect(page.getByTestId('lead-stages-error').textContent()).resolves.toContain('"meeting" (1)');
    await page.getByTestId('lead-stages-input').fill('new\nqualified\nmeeting\nwon\nlost');
    await page.getByRole('button', { name: 'Save stages' }).click();
    await page.getByTestId('lead-stages-saved').waitFor();
    await page.goto(`${base}/client/leads/${leadId}?customer=${customer}`);
    await ready(page);
    await expect(page.getByTestId('lead-stage-select').locator('option').allTextContents()).resolves.toEqual(['new', 'qualified', 'meeting', 'won', 'lost']);
    expect(errors).toEqual([]);
  } catch (err) {
    await page.screenshot({ path: await screenshotPath('lead-stages'), fullPage: true });
    throw err;
  }
});

it("shows a run's steps and follows a live run, cancels a queued run and reruns a failed one", async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const automationId = await insertAutomation(owner, tenantId());
  const live = await insertRunRow(owner, tenantId(), { automationId, status: 'running' });
  await insertStepRows(owner, tenantId(), live, [{ path: '0', ordinal: 0, type: 'add_tag', status: 'running' }]);
  const queued = await insertRunRow(owner, tenantId(), { automationId, status: 'queued' });
  const failed = await insertFailedRun(owner, tenantId(), automationId);
  const { page, errors } = await signedInPage();
  try {
    await page.goto(`${base}/provider/automations/${automationId}/runs`);
    await ready(page);
    await expect(page.getByTestId('runs').locator('tbody tr').count()).resolves.toBe(3);
    await page.getByTestId('run-filter').getByRole('combobox').selectOption('failed');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/status=failed/);
    await expect(page.getByTestId('runs').locator('tbody tr').count()).resolves.toBe(1);

    // The live run: its page moves on by itself when the run does.
    await page.goto(`${base}/provider/automation-runs/${live}`);
    await ready(page);
    await expect(page.getByTestId('run-step-0').getAttribute('data-status')).resolves.toBe('running');
    await expect(page.getByTestId('run-temporal-link').getAttribute('href')).resolves.toContain(
      encodeURIComponent(`tenant/${tenantId()}/automation/${automationId}/run/${live}`),
    );
    await withTenant(owner, tenantId(), async (m) => {
      await m.query("UPDATE automation_run_steps SET status = 'completed', ended_at = clock_timestamp() WHERE run_id = $1", [live]);
      await m.query("UPDATE automation_runs SET status = 'completed', ended_at = clock_timestamp() WHERE id = $1", [live]);
    });
    await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('run-step-0').getAttribute('data-status')).resolves.toBe('completed');

    await page.goto(`${base}/provider/automation-runs/${queued}`);
    await ready(page);
    await page.getByTestId('run-cancel').locator('summary').click();
    await page.getByRole('button', { name: 'Cancel the run' }).click();
    await page.getByTestId('run-canceled').waitFor();
    await expect(page.getByTestId('run-status').textContent()).resolves.toBe('canceled');

    await page.goto(`${base}/provider/automation-runs/${failed}`);
    await ready(page);
    await expect(page.getByTestId('run-error').textContent()).resolves.toContain('the receiver answered 500');
    await expect(page.getByTestId('run-steps').locator('li').count()).resolves.toBe(3);
    await page.getByTestId('run-rerun-button').locator('summary').click();
    await page.getByRole('button', { name: 'Rerun', exact: true }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/provider/automation-runs/') && !url.pathname.endsWith(failed));
    await ready(page);
    await expect(page.getByTestId('run-rerun-of').textContent()).resolves.toBe(failed);
    expect(errors).toEqual([]);
  } catch (err) {
    await page.screenshot({ path: await screenshotPath('automation-runs'), fullPage: true });
    throw err;
  }
});
