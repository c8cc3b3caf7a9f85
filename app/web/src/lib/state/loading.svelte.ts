// A load that fills part of a page: busy while it runs, and the failure in the user's language
// (shown as an alert) until the next load succeeds.
import { describeError } from './form.svelte.ts';

export class LoadState {
  busy = $state(false);
  error = $state<string | null>(null);

  async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await action();
      this.error = null;
    } catch (err) {
      this.error = describeError(err);
    } finally {
      this.busy = false;
    }
  }
}
