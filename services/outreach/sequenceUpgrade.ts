// Moving a campaign's running enrollments to its latest sequence version.
// A running enrollment keeps the version it started with when the campaign
// takes a new one (docs/architecture.md, "Workflows"); moving it is an
// explicit action, offered when some run an older version. The move pins the
// rows in the request's transaction and, once it has committed, signals
// their workflows, which load their plan again at their next wait. A
// workflow the signal does not reach (the process died after the commit)
// finds the move at its next send, which answers replan instead of sending.
// The statements are db/enrollments.ts.
import { moveRunningToVersion, runningVersionCounts } from '../../db/enrollments';
import { ApiError } from '../../lib/errors';
import { sequenceChangedSignal } from '../../workflows/enrollLead.contract';
import { type TenantAccess } from '../context';
import { findCampaign } from './campaigns';
import { signalAfterCommit, type WorkflowClientDeps } from './enrollments';

/** At most this many moved enrollments are signalled by the request; the rest replan at their next send. */
const SIGNAL_LIMIT = 1000;

/** Which versions the campaign's running leads run, the latest version, and how many run an older one. */
export async function runningSequenceVersions(a: TenantAccess, customerId: string, id: string) {
  const c = await findCampaign(a, customerId, id);
  const running = await runningVersionCounts(a.manager, c.id);
  const latest = c.sequence_version;
  const behind = latest === null ? 0 : running.filter((r) => r.version < latest).reduce((n, r) => n + r.leads, 0);
  return { latest, running, behind };
}

/** Moves the campaign's running enrollments on an older version to the latest; 409 when none runs an older one. */
export async function upgradeRunningEnrollments(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, id: string) {
  // The campaign's row is locked: a new version taken meanwhile waits, so the version moved to is the latest.
  const c = await findCampaign(a, customerId, id, true);
  const latest = c.sequence_version;
  if (latest === null) throw new ApiError(409, 'nothing_to_upgrade', 'the campaign has no sequence yet');
  const moved = await moveRunningToVersion(a.manager, c.id, latest);
  if (moved.length === 0) throw new ApiError(409, 'nothing_to_upgrade', `every running lead already uses version ${latest}, the latest`);
  // The signal only hurries a waiting workflow (its next send replans
  // anyway): the request signals a bounded number and answers.
  signalAfterCommit(a, deps, moved.slice(0, SIGNAL_LIMIT), sequenceChangedSignal);
  return { version: latest, moved: moved.length };
}
