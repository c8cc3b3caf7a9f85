// Per-form state as a rune class: busy flag, a message for the whole form and the server's
// field errors, so every form reports problems the same way (next to the field, and once on top).
import { tick } from 'svelte';
import { ApiError, NetworkError } from '../api.ts';
import { i18n, t } from '../i18n/i18n.svelte.ts';
import { localizeFieldIssue } from '../validation-messages.ts';

/**
 * A human message for any failed request, in the current language: by the error's code where
 * the catalogue has one (error.code.<code>), else by status family. The server's English text is
 * never shown.
 */
export function describeError(err: unknown): string {
  if (err instanceof NetworkError) return t('error.network');
  if (!(err instanceof ApiError)) return t('error.unexpected');
  if (err.status === 429) return t('error.tooMany', { seconds: err.retryAfterSeconds ?? 60 });
  if (err.code === 'csrf_failed') return t('error.csrf');
  if (err.status === 403) return i18n.lookup(`error.code.${err.code}`) ?? t('error.forbidden');
  if (err.code === 'sealed') return t('error.sealed');
  if (err.status === 423) return t('error.restricted');
  if (err.status === 404) return t('error.notFound');
  if (err.status === 410) return t('error.gone');
  if (err.status === 413) return t('error.tooLarge');
  if (err.status === 415) return t('error.fileType');
  if (err.fields.length) return t('form.checkFields');
  const byCode = i18n.lookup(`error.code.${err.code}`);
  if (byCode) return byCode;
  if (err.status === 409) return t('error.conflictPlain');
  return err.status >= 500 ? t('error.server') : t('error.request');
}

export class FormState {
  busy = $state(false);
  /** Shown on top of the form (role="alert"). */
  message = $state<string | null>(null);
  errors = $state<Record<string, string>>({});
  readonly #form: () => HTMLFormElement | undefined;

  constructor(form: () => HTMLFormElement | undefined = () => undefined) {
    this.#form = form;
  }

  error(field: string): string | undefined {
    return this.errors[field];
  }

  reset(): void {
    this.message = null;
    this.errors = {};
  }

  /** Client-side problems (fields the server never sees, like a repeated password). */
  async fail(errors: Record<string, string>, message: string | null = t('form.checkFields')): Promise<void> {
    this.errors = errors;
    this.message = message;
    await this.#focusFirstInvalid();
  }

  /**
   * Runs a submission: clears old errors, maps an ApiError's field details onto the fields and
   * everything else onto the form message. `describe` may give a more specific message.
   * Returns whether it succeeded.
   */
  async run(action: () => Promise<void>, describe: (err: unknown) => string | undefined = () => undefined): Promise<boolean> {
    if (this.busy) return false;
    this.reset();
    this.busy = true;
    try {
      await action();
      return true;
    } catch (err) {
      this.errors = err instanceof ApiError ? Object.fromEntries(Object.entries(err.fieldIssues()).map(([f, issue]) => [f, localizeFieldIssue(issue)])) : {};
      this.message = describe(err) ?? describeError(err);
      await this.#focusFirstInvalid();
      return false;
    } finally {
      this.busy = false;
    }
  }

  async #focusFirstInvalid(): Promise<void> {
    await tick();
    const form = this.#form();
    const target = form?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form?.querySelector<HTMLElement>('[role="alert"]');
    target?.focus();
  }
}
