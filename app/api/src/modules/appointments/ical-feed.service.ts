// Serves a practitioner's feed by its secret token, without a session: the token's hash names the
// organization and practitioner (SECURITY DEFINER look-up), then the times are read in that
// organization's scope. An unknown or revoked token is 404 like any missing file.
import { withScope } from '../../db/connection.ts';
import { notFound, sealed } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import * as repo from './appointment.repository.ts';
import { feedTokenHash } from './calendar-setup.service.ts';
import { renderFeed } from './ical.ts';

const DAY = 86_400_000;
/** The window a feed shows: 30 days back, 365 days ahead. */
export const FEED_PAST_DAYS = 30;
export const FEED_FUTURE_DAYS = 365;

export async function feedCalendar(services: Services, token: string, now = new Date()): Promise<string> {
  if (services.seal.isSealed) throw sealed();
  const found = await withScope(services.db, { organizationId: null }, (trx) => repo.resolveFeed(trx, feedTokenHash(token)));
  if (!found) throw notFound('Calendar');
  return withScope(services.db, { organizationId: found.organization_id, readOnly: true }, async (trx) => {
    const timeZone = await repo.organizationTimeZone(trx, found.organization_id);
    const rows = await repo.feedTimes(trx, found.resource_id, new Date(now.getTime() - FEED_PAST_DAYS * DAY), new Date(now.getTime() + FEED_FUTURE_DAYS * DAY));
    return renderFeed({
      calendarName: 'Praxiskern', timeZone, now,
      events: rows.map((r) => ({ id: r.id, startsAt: r.starts_at, endsAt: r.ends_at, updatedAt: r.updated_at })),
    });
  });
}
