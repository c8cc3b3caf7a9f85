// Message purposes, their variables and the built-in German and English texts. An organization
// may replace a text per purpose and language (message_templates); the built-in ones carry no
// health data. Variables are written {{name}}; an unknown one is a 400 naming it, and a health
// variable needs the admin to enable it for that template with a reason (audited).
export const MESSAGE_PURPOSES = [
  'appointment_confirmation', 'appointment_reminder', 'appointment_change', 'appointment_cancellation',
  'aftercare_step', 'document_request', 'treatment_plan_sent',
] as const;
export type MessagePurpose = (typeof MESSAGE_PURPOSES)[number];
export const MESSAGE_CHANNELS = ['email', 'whatsapp'] as const;
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];
export const LANGUAGES = ['de', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Sent without a person pressing "send": blocked by an Art. 21 objection and an Art. 18 restriction. */
export const AUTOMATED_PURPOSES: readonly MessagePurpose[] = ['appointment_reminder', 'aftercare_step'];

/** Variables a caller may pass; the patient's first name and the practice name are filled in by the server. */
export const VARIABLES = ['firstName', 'practiceName', 'appointmentDate', 'appointmentTime', 'location', 'documentName', 'link', 'stepTitle', 'treatment', 'appointmentType', 'instructions'] as const;
export type Variable = (typeof VARIABLES)[number];
/** Variables that can reveal health data (what is treated, what kind of appointment, care instructions). */
export const HEALTH_VARIABLES: readonly Variable[] = ['treatment', 'appointmentType', 'instructions'];
export const SERVER_VARIABLES: readonly Variable[] = ['firstName', 'practiceName'];

export interface TemplateText {
  subject: string;
  body: string;
}

const D: Record<MessagePurpose, Record<Language, TemplateText>> = {
  appointment_confirmation: {
    de: { subject: 'Terminbestätigung', body: 'Guten Tag {{firstName}}, Ihr Termin bei {{practiceName}} am {{appointmentDate}} um {{appointmentTime}} Uhr ist bestätigt.' },
    en: { subject: 'Appointment confirmed', body: 'Hello {{firstName}}, your appointment at {{practiceName}} on {{appointmentDate}} at {{appointmentTime}} is confirmed.' },
  },
  appointment_reminder: {
    de: { subject: 'Terminerinnerung', body: 'Guten Tag {{firstName}}, wir erinnern Sie an Ihren Termin bei {{practiceName}} am {{appointmentDate}} um {{appointmentTime}} Uhr.' },
    en: { subject: 'Appointment reminder', body: 'Hello {{firstName}}, a reminder of your appointment at {{practiceName}} on {{appointmentDate}} at {{appointmentTime}}.' },
  },
  appointment_change: {
    de: { subject: 'Terminänderung', body: 'Guten Tag {{firstName}}, Ihr Termin bei {{practiceName}} wurde auf den {{appointmentDate}} um {{appointmentTime}} Uhr verlegt.' },
    en: { subject: 'Appointment changed', body: 'Hello {{firstName}}, your appointment at {{practiceName}} has moved to {{appointmentDate}} at {{appointmentTime}}.' },
  },
  appointment_cancellation: {
    de: { subject: 'Terminabsage', body: 'Guten Tag {{firstName}}, Ihr Termin bei {{practiceName}} am {{appointmentDate}} um {{appointmentTime}} Uhr wurde abgesagt.' },
    en: { subject: 'Appointment cancelled', body: 'Hello {{firstName}}, your appointment at {{practiceName}} on {{appointmentDate}} at {{appointmentTime}} has been cancelled.' },
  },
  aftercare_step: {
    de: { subject: 'Nachsorge', body: 'Guten Tag {{firstName}}, hier meldet sich {{practiceName}} zu Ihrer Nachsorge: {{stepTitle}}.' },
    en: { subject: 'Aftercare', body: 'Hello {{firstName}}, this is {{practiceName}} about your aftercare: {{stepTitle}}.' },
  },
  document_request: {
    de: { subject: 'Unterlagen', body: 'Guten Tag {{firstName}}, {{practiceName}} bittet Sie um folgende Unterlagen: {{documentName}}.' },
    en: { subject: 'Documents', body: 'Hello {{firstName}}, {{practiceName}} asks you for the following documents: {{documentName}}.' },
  },
  treatment_plan_sent: {
    de: { subject: 'Ihr Behandlungsplan', body: 'Guten Tag {{firstName}}, {{practiceName}} hat Ihnen Ihren Behandlungsplan bereitgestellt: {{link}}' },
    en: { subject: 'Your treatment plan', body: 'Hello {{firstName}}, {{practiceName}} has made your treatment plan available: {{link}}' },
  },
};

export function defaultTemplate(purpose: MessagePurpose, language: Language): TemplateText {
  return D[purpose][language];
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

/** The variable names a text uses. */
export function variablesOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

export const isVariable = (name: string): name is Variable => (VARIABLES as readonly string[]).includes(name);
export const usesHealthData = (names: readonly string[]) => names.some((n) => (HEALTH_VARIABLES as readonly string[]).includes(n));

/** Fills {{name}}; a variable the caller did not give becomes empty text (never the placeholder). */
export function render(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => values[name] ?? '');
}

/** The template language for a patient: English when the patient's language is English, else German. */
export function languageFor(patientLanguage: string | undefined): Language {
  return patientLanguage?.toLowerCase().startsWith('en') ? 'en' : 'de';
}
