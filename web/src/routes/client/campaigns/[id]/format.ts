// Formatting shared by the campaign page's panels.

/** A timestamp in the reader's locale, or a dash when there is none. */
export const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');
