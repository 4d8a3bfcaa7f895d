// Browser defenses on API responses (docs/security.md, "Browser and
// deployment defenses"): every answer — success, error, the one HTML page —
// refuses framing and sniffing, runs no script and keeps its URL to itself.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { testApp } from '../test/helpers/api';
import { useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('security_headers', 'tenantflow-headers-test');

function expectBrowserDefenses(res: request.Response) {
  const csp = res.headers['content-security-policy'] as string | undefined;
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('same-origin');
}

it('sends them on successes, errors and the unsubscribe page alike', async () => {
  const app = testApp(suite.ds).callback();
  const answers = [
    [await request(app).get('/api/openapi.json'), 200],
    [await request(app).get('/api/auth/me'), 401],
    [await request(app).post('/api/auth/login').send({ email: 'not an address' }), 400],
    [await request(app).get('/api/no-such-route'), 404],
    [await request(app).get('/api/unsubscribe/not-a-token'), 404],
    [await request(app).get(`/api/unsubscribe/u_${randomUUID()}_${'a'.repeat(24)}`), 200],
  ] as const;
  for (const [res, status] of answers) {
    expect(res.status).toBe(status);
    expectBrowserDefenses(res);
  }
  // The one HTML page posts its own form: form-action allows itself.
  const page = answers[5][0];
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.headers['content-security-policy']).toContain("form-action 'self'");
});
