// Links into the Temporal Web UI for operators: one workflow, or a visibility query.
import { env } from '$env/dynamic/private';

export function temporalUi() {
  const base = env.TEMPORAL_UI_URL || 'http://127.0.0.1:8233';
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  return {
    base,
    namespace,
    workflow: (workflowId: string) => `${base}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`,
    query: (query: string) => `${base}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`,
  };
}
