// The supervisor behind `npm start`: a child that exits on its own is a death,
// but one that exits just before a stop begins (Ctrl-C reaches the whole
// process group, so children can end before the launcher's handler runs) is
// part of the stop.
import { Supervisor } from './processes';

function exited(supervisor: Supervisor, name: string): Promise<void> {
  const p = supervisor.spawn({ name, command: process.execPath, args: ['-e', 'process.exit(0)'] });
  return p.exited.then(() => undefined);
}

it('reports a child that exits while nothing is stopping, after the grace', async () => {
  const supervisor = new Supervisor(200);
  const deaths: string[] = [];
  supervisor.onUnexpectedExit = (name, code) => deaths.push(`${name}:${code}`);
  await exited(supervisor, 'worker');
  expect(deaths).toEqual([]); // not yet: a stop may still begin
  await new Promise((r) => setTimeout(r, 400));
  expect(deaths).toEqual(['worker:0']);
});

it('takes a child that exits just before the stop begins as stopped, not dead', async () => {
  const supervisor = new Supervisor(200);
  const deaths: string[] = [];
  supervisor.onUnexpectedExit = (name) => deaths.push(name);
  await exited(supervisor, 'api');
  // The launcher's SIGINT handler runs a moment after the child's exit.
  await new Promise((r) => setTimeout(r, 50));
  await supervisor.stopAll();
  await new Promise((r) => setTimeout(r, 400));
  expect(deaths).toEqual([]);
});
