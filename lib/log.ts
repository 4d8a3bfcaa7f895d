// Structured logs (pino, object first). Redaction is a backstop for spec
// §3.10: code must not log e-mail addresses, bodies, tokens or secrets, and
// anything that slips into these keys is blanked anyway.
import pino, { type Logger } from 'pino';
import { config } from './config';

const REDACT = [
  'email',
  '*.email',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'body',
  '*.body',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

export function createLogger(service: string, level = config().LOG_LEVEL): Logger {
  return pino({ level, base: { service }, redact: { paths: REDACT, censor: '[redacted]' } });
}
