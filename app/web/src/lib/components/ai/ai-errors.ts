// The AI routes answer codes (ai_*): each gets its own sentence; the rest as usual.
import { ApiError } from '../../api.ts';
import { i18n, t } from '../../i18n/i18n.svelte.ts';
import { describeError } from '../../state/form.svelte.ts';

export function describeAiError(err: unknown): string {
  if (err instanceof ApiError && err.code.startsWith('ai_')) {
    const d = err.details ?? {};
    if (err.code === 'ai_blocked') return i18n.lookup(`error.code.ai_blocked.${String(d.reason)}`) ?? t('error.code.ai_disabled');
    if (err.code === 'ai_leak_blocked') {
      const cats = Array.isArray(d.categories) ? (d.categories as string[]) : [];
      return t('error.code.ai_leak_blocked', { categories: cats.join(', ') });
    }
    const text = i18n.lookup(`error.code.${err.code}`);
    if (text) return text;
  }
  return describeError(err);
}
