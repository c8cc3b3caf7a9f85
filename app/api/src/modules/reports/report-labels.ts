// Series label codes of the reports and their German and English text: pure data, used by the
// CSV export on the server and by the web UI (imported like core/permissions.ts), so both agree.
export const REPORT_NAMES = ['patients', 'funnel', 'appointments', 'utilisation', 'messages', 'response_time'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

type Text = { de: string; en: string };

export const SERIES_LABELS: Record<string, Text> = {
  'reports.series.new_patients': { de: 'Neue Patienten', en: 'New patients' },
  'reports.series.prospects': { de: 'Neue Interessenten', en: 'New prospects' },
  'reports.series.source.website_form': { de: 'Quelle: Website-Formular', en: 'Source: website form' },
  'reports.series.source.whatsapp': { de: 'Quelle: WhatsApp', en: 'Source: WhatsApp' },
  'reports.series.source.email': { de: 'Quelle: E-Mail', en: 'Source: e-mail' },
  'reports.series.source.phone': { de: 'Quelle: Telefon', en: 'Source: phone' },
  'reports.series.source.referral': { de: 'Quelle: Empfehlung/Überweisung', en: 'Source: referral' },
  'reports.series.source.walk_in': { de: 'Quelle: ohne Termin vor Ort', en: 'Source: walk-in' },
  'reports.series.source.other': { de: 'Quelle: sonstige', en: 'Source: other' },
  'reports.series.source.unknown': { de: 'Quelle: nicht erfasst', en: 'Source: not recorded' },
  'reports.series.funnel.enquiry': { de: 'Anfrage', en: 'Enquiry' },
  'reports.series.funnel.qualified': { de: 'Vorqualifiziert', en: 'Qualified' },
  'reports.series.funnel.consultation': { de: 'Beratung wahrgenommen', en: 'Consultation attended' },
  'reports.series.funnel.surgery': { de: 'Operation gebucht', en: 'Surgery booked' },
  'reports.series.appointments.total': { de: 'Termine gesamt', en: 'Appointments (total)' },
  'reports.series.status.planned': { de: 'Status: geplant', en: 'Status: planned' },
  'reports.series.status.confirmed': { de: 'Status: bestätigt', en: 'Status: confirmed' },
  'reports.series.status.arrived': { de: 'Status: angekommen', en: 'Status: arrived' },
  'reports.series.status.in_treatment': { de: 'Status: in Behandlung', en: 'Status: in treatment' },
  'reports.series.status.done': { de: 'Status: erledigt', en: 'Status: done' },
  'reports.series.status.no_show': { de: 'Status: nicht erschienen', en: 'Status: no-show' },
  'reports.series.status.cancelled': { de: 'Status: abgesagt', en: 'Status: cancelled' },
  'reports.series.no_show_rate': { de: 'No-Show-Quote (%)', en: 'No-show rate (%)' },
  'reports.series.type': { de: 'Terminart', en: 'Appointment type' },
  'reports.series.practitioner': { de: 'Behandler', en: 'Practitioner' },
  'reports.series.room': { de: 'Raum', en: 'Room' },
  'reports.series.messages.total': { de: 'Nachrichten gesendet (gesamt)', en: 'Messages sent (total)' },
  'reports.series.inbound.whatsapp': { de: 'Eingegangen: WhatsApp', en: 'Received: WhatsApp' },
  'reports.series.response.conversations': { de: 'Gespräche mit neuer Nachricht', en: 'Conversations with a new message' },
  'reports.series.response.answered': { de: 'Beantwortet', en: 'Answered' },
  'reports.series.response.median': { de: 'Erste Antwort, Median (Minuten)', en: 'First response, median (minutes)' },
  'reports.series.response.p90': { de: 'Erste Antwort, 90. Perzentil (Minuten)', en: 'First response, 90th percentile (minutes)' },
  'reports.series.finance.quotes': { de: 'Kostenvoranschläge versendet', en: 'Quotes sent' },
  'reports.series.finance.deposits': { de: 'Anzahlungen angefordert', en: 'Deposits requested' },
  'reports.series.finance.payments': { de: 'Zahlungseingänge', en: 'Payments received' },
  'reports.series.finance.refunds': { de: 'Erstattungen', en: 'Refunds' },
  'reports.series.finance.open': { de: 'Offen am Periodenende', en: 'Open at the end of the period' },
  'reports.series.finance.paying_patients': { de: 'Zahlende Patienten', en: 'Paying patients' },
};

export const CHANNEL_LABELS: Record<string, Text> = { email: { de: 'E-Mail', en: 'E-mail' }, whatsapp: { de: 'WhatsApp', en: 'WhatsApp' } };
export const OUTCOME_LABELS: Record<string, Text> = {
  pending: { de: 'wartend', en: 'pending' }, sent: { de: 'gesendet', en: 'sent' }, delivered: { de: 'zugestellt', en: 'delivered' },
  read: { de: 'gelesen', en: 'read' }, failed: { de: 'fehlgeschlagen', en: 'failed' }, blocked: { de: 'blockiert', en: 'blocked' },
  cancelled: { de: 'storniert', en: 'cancelled' },
};

export interface SeriesLike { key: string; label: string; names?: Text | null; kind?: string }

/** The unit a CSV column header names: money columns hold integer euro cents. */
export const CSV_UNIT: Record<string, Text> = { cents: { de: 'EUR-Cent', en: 'EUR cents' } };

/** The text of a series in a language: an organization's own name (types, resources) or the label code's text. */
export function seriesText(s: SeriesLike, lang: 'de' | 'en'): string {
  if (s.label.startsWith('reports.series.message.')) {
    const [, , , channel, outcome] = s.label.split('.');
    const c = CHANNEL_LABELS[channel]?.[lang] ?? channel;
    const o = OUTCOME_LABELS[outcome]?.[lang] ?? outcome;
    return `${c}: ${o}`;
  }
  const base = SERIES_LABELS[s.label]?.[lang] ?? s.label;
  // the organization's own name first: whatever a user typed is what a CSV cell starts with
  return s.names ? `${s.names[lang]} (${base})` : base;
}
