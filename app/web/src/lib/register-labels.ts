// Words for the codes of the register of external services (purpose, data, safeguards, recipient,
// third country), in the UI language; a code without a text (a module's new one) is shown as is.
import type { ExternalService, ExternalServicesRegister } from './api.ts';
import { i18n, t } from './i18n/i18n.svelte.ts';
import { toCsv } from './csv.ts';

const word = (prefix: string, code: string) => i18n.lookup(`register.${prefix}.${code}`) ?? code;

export const purposeText = (e: ExternalService) => word('purpose', e.purposeCode);
export const dataText = (e: ExternalService) => e.dataCategoryCodes.map((c) => word('data', c)).join('; ');
export const safeguardsText = (e: ExternalService) => e.safeguardCodes.map((c) => word('safeguard', c)).join('; ');
export const recipientText = (e: ExternalService) => word('recipient', e.recipient);
export const locationText = (e: ExternalService) => word('location', e.location);
export const thirdCountryText = (e: ExternalService) => t(`register.third.${e.thirdCountry}`);
export const scopeText = (e: ExternalService) => t(`register.scope.${e.scope}`);

export function stateText(e: ExternalService): string {
  if (!e.since) return e.enabled ? t('register.state.on') : t('register.state.off');
  const date = i18n.dateTime(e.since);
  return e.enabled ? t('register.state.onSince', { date }) : t('register.state.offSince', { date });
}

/** The register as a CSV file in the UI language (cells that look like formulas neutralised). */
export function registerCsv(reg: ExternalServicesRegister): string {
  const head = ['service', 'purpose', 'data', 'recipient', 'location', 'thirdCountry', 'safeguards', 'state', 'scope'].map((c) => t(`register.col.${c}` as 'register.col.service'));
  return toCsv([
    head,
    ...reg.entries.map((e) => [e.name, purposeText(e), dataText(e), recipientText(e), locationText(e), thirdCountryText(e), safeguardsText(e), stateText(e), scopeText(e)]),
  ]);
}

/** The register as JSON: the codes as the API answers them plus their words in the UI language. */
export function registerJson(reg: ExternalServicesRegister): string {
  return `${JSON.stringify({
    ...reg,
    language: i18n.locale,
    entries: reg.entries.map((e) => ({
      ...e,
      words: { purpose: purposeText(e), data: dataText(e), recipient: recipientText(e), location: locationText(e), thirdCountry: thirdCountryText(e), safeguards: safeguardsText(e), state: stateText(e) },
    })),
  }, null, 2)}\n`;
}

export function download(filename: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
