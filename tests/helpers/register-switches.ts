// How the live register of external services records one service's switches (on/off), for the
// tests of the modules whose settings switch a service (AI, Stripe, flight status): the events in
// external_service_events and the audit rows of the switch, with the request that wrote them.
import type { ExecutionContext } from 'ava';
import { ownerQuery } from '../integration/patients-fixtures.ts';

export interface Switches {
  events: { enabled: boolean; at: Date }[];
  /** Every `<area>.external_service.enabled|disabled` row about the service (a module's own action would show up here too). */
  audits: { action: string; request_id: string | null; details: Record<string, unknown> }[];
}

export function registerSwitches(ownerUrl: string, organizationId: string, key: string) {
  return {
    dbNow: async (): Promise<Date> => (await ownerQuery<{ now: Date }>(ownerUrl, 'select now()'))[0].now,
    read: async (): Promise<Switches> => ({
      events: await ownerQuery(ownerUrl, 'select enabled, at from external_service_events where organization_id = ? and service_key = ? order by id', [organizationId, key]),
      audits: await ownerQuery(ownerUrl,
        "select action, request_id, details from audit_log where organization_id = ? and object_id = ? and (action like '%.external_service.enabled' or action like '%.external_service.disabled') order by id",
        [organizationId, key]),
    }),
  };
}

/**
 * The first switch-on is recorded and audited once, by the register, inside the settings change
 * (between `t0` and `t1`, database time) and before anything reads the register.
 */
export function recordedOnceAtChange(t: ExecutionContext, s: Switches, t0: Date, t1: Date, action: string): void {
  const on = s.events.filter((x) => x.enabled);
  t.is(on.length, 1, 'the switch is in external_service_events right after the settings change');
  t.true(on[0].at >= t0 && on[0].at <= t1, 'recorded at the time of the change');
  t.deepEqual(s.audits.map((a) => a.action), [action]);
  t.truthy(s.audits[0].request_id, 'written by the settings request');
}
