// Request and answer schemas of the messaging routes (settings, templates, outbox, sending).
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';
import { phone } from '../patients/patient.schema.ts';
import { LANGUAGES, MESSAGE_CHANNELS, MESSAGE_PURPOSES, OUTBOX_PURPOSES, VARIABLES } from './message-templates.ts';
import { BLOCK_REASONS } from './outbox.service.ts';

const STATUSES = ['queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'blocked', 'cancelled'] as const;

export const channelSettingsBody = z.strictObject({
  email: z.strictObject({
    enabled: z.boolean(),
    from: z.email('must be an e-mail address').max(200).nullable().optional(),
  }),
  whatsapp: z.strictObject({
    enabled: z.boolean(),
    provider: z.enum(['meta', '360dialog']),
    phoneNumberId: z.string().regex(/^[0-9]{1,32}$/, 'must be the numeric phone number id from the WhatsApp Manager').nullable().optional(),
    displayNumber: phone.nullable().optional(),
  }),
});

export const templateBody = z.strictObject({
  purpose: z.enum(MESSAGE_PURPOSES),
  language: z.enum(LANGUAGES),
  subject: z.string().trim().min(1).max(200).optional(),
  body: z.string().trim().min(1).max(4000),
  whatsappTemplate: z.strictObject({
    name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'must be the approved template name (lower case, digits, _)'),
    languageCode: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a WhatsApp language code such as de or en_US'),
    parameters: z.array(z.string().max(40)).max(20),
  }).nullable().optional(),
  /** Needed when the text or the WhatsApp parameters use a health variable (treatment, appointmentType, instructions). */
  healthDataReason: z.string().trim().min(3).max(500).optional(),
});

export const sendBody = z.strictObject({
  purpose: z.enum(MESSAGE_PURPOSES),
  channel: z.enum(MESSAGE_CHANNELS),
  sendAt: isoTime.optional(),
  variables: z.record(z.string(), z.string()).optional(),
});

export const outboxQuery = z.strictObject({
  status: z.enum(STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

// ---- answers ----
export const channelSettingsView = named('MessagingChannels', z.strictObject({
  email: z.strictObject({
    enabled: z.boolean(), from: z.string().nullable(),
    /** Installation-wide SMTP relay (environment): host and port, whether credentials are present. */
    relay: z.string().nullable(), starttlsRequired: z.boolean(),
    sends: z.array(z.string()), recipient: z.string(),
  }),
  whatsapp: z.strictObject({
    enabled: z.boolean(), provider: z.enum(['meta', '360dialog']), phoneNumberId: z.string().nullable(), displayNumber: z.string().nullable(),
    endpoint: z.string(), credentialPresent: z.boolean(), webhookConfigured: z.boolean(),
    sends: z.array(z.string()), recipient: z.string(),
  }),
  updatedAt: isoTime.nullable(),
}));

export const templateView = named('MessageTemplate', z.strictObject({
  purpose: z.enum(MESSAGE_PURPOSES), language: z.enum(LANGUAGES), custom: z.boolean(),
  subject: z.string(), body: z.string(),
  whatsappTemplate: z.strictObject({ name: z.string(), languageCode: z.string(), parameters: z.array(z.string()) }).nullable(),
  usesHealthData: z.boolean(), healthDataEnabledAt: isoTime.nullable(), healthDataReason: z.string().nullable(),
}));
export const templatesView = z.strictObject({ templates: z.array(templateView), variables: z.array(z.enum(VARIABLES)), healthVariables: z.array(z.enum(VARIABLES)) });
export const oneTemplateView = z.strictObject({ template: templateView });

export const outboxMessageView = named('OutboxMessage', z.strictObject({
  id: z.uuid(), patientId: z.uuid(), purpose: z.enum(OUTBOX_PURPOSES), channel: z.enum(MESSAGE_CHANNELS), automated: z.boolean(),
  status: z.enum(STATUSES), blockedReason: z.enum(BLOCK_REASONS).nullable(), attempts: z.int(), lastError: z.string().nullable(),
  provider: z.string().nullable(), sendAt: isoTime, nextAttemptAt: isoTime, createdAt: isoTime,
  sentAt: isoTime.nullable(), deliveredAt: isoTime.nullable(), readAt: isoTime.nullable(),
}));
export const outboxPageView = z.strictObject({
  items: z.array(outboxMessageView), total: z.int(), limit: z.int(), offset: z.int(),
  counts: z.record(z.string(), z.int()),
});
export const patientMessagesView = z.strictObject({ items: z.array(outboxMessageView) });
export const sentMessageView = z.strictObject({ message: outboxMessageView });

// ---- inbox ----
export const inboxQuery = z.strictObject({
  status: z.enum(['open', 'done', 'all']).default('open'),
  assigned: z.enum(['me', 'nobody']).optional(),
});
export const conversationStateBody = z.strictObject({
  assignedTo: z.uuid().nullable().optional(),
  done: z.boolean().optional(),
}).refine((b) => b.assignedTo !== undefined || b.done !== undefined, { message: 'give assignedTo or done', path: ['assignedTo'] });
export const replyBody = z.strictObject({
  text: z.string().trim().min(1).max(4096).optional(),
  purpose: z.enum(MESSAGE_PURPOSES).optional(),
  variables: z.record(z.string(), z.string()).optional(),
});

export const inboxView = z.strictObject({
  items: z.array(named('InboxConversation', z.strictObject({
    kind: z.enum(['patient', 'prospect']), id: z.uuid(), name: z.string(), unread: z.int(), lastMessageAt: isoTime,
    assignedTo: z.uuid().nullable(), assigneeName: z.string().nullable(), done: z.boolean(), windowOpen: z.boolean(),
  }))),
});
export const conversationView = named('Conversation', z.strictObject({
  kind: z.enum(['patient', 'prospect']), id: z.uuid(), name: z.string(), phone: z.string().nullable(),
  assignedTo: z.uuid().nullable(), assigneeName: z.string().nullable(), done: z.boolean(), windowOpen: z.boolean(), windowClosesAt: isoTime.nullable(),
  messages: z.array(z.strictObject({
    direction: z.enum(['in', 'out']), id: z.uuid(), kind: z.string(), at: isoTime, text: z.string().nullable(),
    media: z.strictObject({
      mimeType: z.string().nullable(), filename: z.string().nullable(),
      /** pending: not yet downloaded; stored: at url; too_large / refused (sha256 mismatch) / failed: not stored */
      state: z.enum(['pending', 'stored', 'too_large', 'refused', 'failed']),
      sizeBytes: z.number().int().nullable(), url: z.string().nullable(),
    }).nullable(),
    status: z.enum(STATUSES).nullable(), purpose: z.enum(OUTBOX_PURPOSES).nullable(), blockedReason: z.enum(BLOCK_REASONS).nullable(),
  })),
}));
export const conversationStateView = z.strictObject({ assignedTo: z.uuid().nullable(), done: z.boolean() });
export const assigneesView = z.strictObject({
  assignees: z.array(named('InboxAssignee', z.strictObject({ id: z.uuid(), displayName: z.string(), me: z.boolean() }))),
});
