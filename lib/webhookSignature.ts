// The signature our e-mail webhooks carry: `v1=` + hex HMAC-SHA256 of
// `{timestamp}.{raw body}` with the provider's secret, compared in constant
// time, the timestamp within 300 s of now.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-tenantflow-signature';
export const TIMESTAMP_HEADER = 'x-tenantflow-timestamp';
export const TOLERANCE_SECONDS = 300;

export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export function verifyWebhook(secret: string, header: string, timestampHeader: string, rawBody: string, now = Date.now()): boolean {
  const timestamp = Number(timestampHeader);
  if (!/^\d{1,12}$/.test(timestampHeader) || Math.abs(now / 1000 - timestamp) > TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, rawBody));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
