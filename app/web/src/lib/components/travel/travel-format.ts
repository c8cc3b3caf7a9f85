// Shared formatting of the travel views: times in the organization's zone and the UI language,
// the delay in words ("delayed by 25 min").
import { i18n, t } from '#lib/i18n/i18n.svelte.ts';
import { clock, dayLabel, localParts } from '#lib/appointments.ts';

/** "Mi., 03.12.2026, 13:45" in the organization's zone. */
export function when(instant: string, zone: string): string {
  return `${dayLabel(localParts(instant, zone).day, i18n.locale)}, ${clock(instant, i18n.locale, zone)}`;
}

export function delayText(minutes: number | null): string {
  if (minutes === null) return '';
  if (minutes > 0) return t('travel.delayed', { minutes: i18n.number(minutes) });
  if (minutes < 0) return t('travel.early', { minutes: i18n.number(-minutes) });
  return t('travel.onTime');
}
