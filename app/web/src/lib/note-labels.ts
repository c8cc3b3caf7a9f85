// The label of a note entry's category: the quick entry's (note, finding) and those of accepted AI
// draft items (summary, contraindication, question, next step), in the UI language.
import { i18n, t } from './i18n/i18n.svelte.ts';

export function noteCategoryLabel(category: string): string {
  if (category === 'note') return t('chart.note.note');
  if (category === 'finding') return t('chart.note.finding');
  return i18n.lookup(`ai.category.${category}`) ?? t('chart.note.note');
}
