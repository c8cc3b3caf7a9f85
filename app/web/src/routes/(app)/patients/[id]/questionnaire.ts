// The questionnaire helpers live in #lib/questionnaire.ts (shared with the editor's preview).
export { answersOf, choicesOf, lbl, optionLabel, valuesOf, type FormValues } from '#lib/questionnaire.ts';
