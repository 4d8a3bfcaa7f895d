// Toasts: short notices of results that land in the background (a payment
// confirmed, leads resumed). Pages call `toast()`; the layout shows them in
// a polite live region, so screen readers announce them too.
export interface Toast {
  id: number;
  message: string;
  tone: 'ok' | 'error' | 'info';
}

export const toasts = $state<Toast[]>([]);
let next = 1;

export function toast(message: string, tone: Toast['tone'] = 'ok', ms = 5000): void {
  const id = next++;
  toasts.push({ id, message, tone });
  setTimeout(() => dismiss(id), ms);
}

export function dismiss(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}
