// A one-time notice that survives a page change (e.g. "erased" shown on the patient list).
export class FlashState {
  message = $state<string | null>(null);

  set(message: string): void {
    this.message = message;
  }

  /** Returns the notice once and clears it. */
  take(): string | null {
    const m = this.message;
    this.message = null;
    return m;
  }
}

export const flash = new FlashState();
