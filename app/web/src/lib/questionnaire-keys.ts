// Hidden keys of questionnaire items, generated from labels (pure: no Svelte, unit-tested).

/**
 * A key from a label, as the API expects it (lowercase letters, digits, underscores). Never shown:
 * questions, options, sections and scores are named by their labels everywhere in the UI.
 */
export function keyFromLabel(text: string, taken: Set<string>, fallback = 'q'): string {
  let base = text.toLowerCase()
    .replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/ß/g, 'ss')
    .normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40).replace(/_+$/, '');
  if (!/^[a-z]/.test(base)) base = base ? `${fallback}_${base}` : fallback;
  let key = base;
  for (let i = 2; taken.has(key); i++) key = `${base}_${i}`;
  return key;
}
