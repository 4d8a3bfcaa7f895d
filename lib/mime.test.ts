// The outbox shows mail as people read it: nodemailer's own output (quoted-
// printable, base64, encoded-word subjects, multipart/alternative) decoded.
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { readMessage } from './mime';

const compose = async (mail: SendMailOptions) =>
  ((await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail(mail)).message as Buffer).toString('utf8');

it('decodes the headers and the text and HTML parts of a quoted-printable message', async () => {
  const body = `Hi Zoë, Fairway Ltd deserves a better swing — and a long line that quoted-printable has to wrap somewhere past seventy-six characters.`;
  const raw = await compose({
    from: 'Golf Hello <hello@golf.example>',
    to: 'amy@fairway.example',
    subject: 'Tee time, Zoë? ⛳',
    text: body,
    html: `<p>${body}</p><script>alert(1)</script>`,
    textEncoding: 'quoted-printable',
  });
  expect(raw).toContain('=C3=AB'); // really quoted-printable on the wire
  const m = readMessage(raw);
  expect(m.headers.find((h) => h.name === 'Subject')?.value).toBe('Tee time, Zoë? ⛳');
  expect(m.headers.find((h) => h.name === 'From')?.value).toBe('Golf Hello <hello@golf.example>');
  expect(m.text).toBe(body);
  expect(m.html).toBe(`<p>${body}</p><script>alert(1)</script>`);
});

it('decodes base64 parts and a plain single-part message, and survives nonsense', async () => {
  const raw = await compose({ from: 'a@b.example', to: 'c@d.example', subject: 'B', text: 'Grüße aus Köln', textEncoding: 'base64' });
  expect(readMessage(raw).text).toBe('Grüße aus Köln');
  expect(readMessage('Subject: plain\r\n\r\nJust text.\r\n')).toEqual({ headers: [{ name: 'Subject', value: 'plain' }], text: 'Just text.', html: null });
  expect(readMessage('no headers at all').text).toBe('');
});
