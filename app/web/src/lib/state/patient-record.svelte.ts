// One open patient record as a rune class (per page, like FormState): master data, the health
// record when the role may read it, and the Art. 18 read-only flag every section checks.
import { api, ApiError, type HealthRecord, type Patient } from '../api.ts';
import { describeError } from './form.svelte.ts';
import { session } from './session.svelte.ts';

export class PatientRecordState {
  readonly id: string;
  patient = $state<Patient | null>(null);
  record = $state<HealthRecord | null>(null);
  loadError = $state<string | null>(null);
  /** 404/410: the record does not exist (any more). */
  missing = $state(false);

  /** Art. 18: a restricted record is read-only (the API answers 423 to every write). */
  readOnly = $derived(this.patient?.restricted ?? false);

  constructor(id: string) {
    this.id = id;
  }

  async load(): Promise<void> {
    try {
      const [p, r] = await Promise.all([api.patient(this.id), session.can('health.read') ? api.record(this.id) : Promise.resolve(null)]);
      this.patient = p.patient;
      this.record = r;
      this.loadError = null;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 410)) this.missing = true;
      this.loadError = describeError(err);
    }
  }

  /** After a change: reload master data and record (the server is the source of truth). */
  async refresh(): Promise<void> {
    await this.load();
  }
}
