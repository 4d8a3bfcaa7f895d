// Send windows across weekends and DST changes, with expected instants written
// out in UTC by hand (Europe/Berlin is UTC+1 in winter, UTC+2 in summer).
import { localDate, nextDaysWindow, nextOpenWindow, type SendSchedule } from './schedule';

const berlin: SendSchedule = { timezone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

it('keeps an instant inside the window', () => {
  expect(iso(nextOpenWindow(at('2027-03-26T15:59:00Z'), berlin))).toBe('2027-03-26T15:59:00.000Z'); // Fri 16:59 CET
});

it('moves an instant at the window end to the next weekday morning', () => {
  expect(iso(nextOpenWindow(at('2027-03-26T16:00:00Z'), berlin))).toBe('2027-03-29T07:00:00.000Z'); // Fri 17:00 CET → Mon 09:00 CEST
});

it('moves a weekend instant to Monday 09:00 local across the spring and autumn DST changes', () => {
  expect(iso(nextOpenWindow(at('2027-03-28T15:59:00Z'), berlin))).toBe('2027-03-29T07:00:00.000Z');
  expect(iso(nextOpenWindow(at('2027-10-31T14:59:00Z'), berlin))).toBe('2027-11-01T08:00:00.000Z');
});

it('waits for the opening on the same day before the window', () => {
  expect(iso(nextOpenWindow(at('2027-04-01T05:00:00Z'), berlin))).toBe('2027-04-01T07:00:00.000Z');
});

it('rolls a full day over to the next open day, in local days', () => {
  expect(iso(nextDaysWindow(at('2027-03-26T09:00:00Z'), berlin))).toBe('2027-03-29T07:00:00.000Z');
  expect(iso(nextDaysWindow(at('2027-03-23T22:30:00Z'), berlin))).toBe('2027-03-24T08:00:00.000Z'); // Tue 23:30 CET → Wed 09:00 CET
  expect(localDate(at('2027-03-23T23:30:00Z'), 'Europe/Berlin')).toBe('2027-03-24');
});

it('handles other zones and every-day windows', () => {
  const ny: SendSchedule = { timezone: 'America/New_York', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
  expect(iso(nextOpenWindow(at('2027-03-14T07:30:00Z'), ny))).toBe('2027-03-14T07:30:00.000Z');
  const tokyo: SendSchedule = { timezone: 'Asia/Tokyo', days: [6], start: '10:00', end: '11:00' };
  expect(iso(nextOpenWindow(at('2027-03-26T00:00:00Z'), tokyo))).toBe('2027-03-27T01:00:00.000Z'); // Sat 10:00 JST
});
