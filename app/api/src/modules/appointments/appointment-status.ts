// The appointment statuses and which may follow which: pure data, shared by the API and the web UI.
export const STATUSES = ['planned', 'confirmed', 'arrived', 'in_treatment', 'done', 'no_show', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];

/**
 * Cancelled and done are final; a no-show can be planned again (the slot is checked again by the
 * database); an arrival can be undone to confirmed (marked by mistake).
 */
export const TRANSITIONS: Record<Status, readonly Status[]> = {
  planned: ['confirmed', 'arrived', 'no_show', 'cancelled'],
  confirmed: ['planned', 'arrived', 'no_show', 'cancelled'],
  arrived: ['in_treatment', 'done', 'no_show', 'cancelled', 'confirmed'],
  in_treatment: ['done', 'arrived'],
  done: [],
  no_show: ['planned'],
  cancelled: [],
};
