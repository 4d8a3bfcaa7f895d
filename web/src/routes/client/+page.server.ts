import { landOn } from '$lib/server/spaceLanding';

export const load = landOn('client');
