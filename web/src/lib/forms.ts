// use:enhance resets a form after a successful submit, putting inputs back to
// their *default* values. Right for "add" forms; wrong for forms that edit
// what is shown (the fields would go blank or revert). Those use `keepValues`.
import type { SubmitFunction } from '@sveltejs/kit';

export const keepValues: SubmitFunction =
  () =>
  async ({ update }) => {
    await update({ reset: false });
  };
