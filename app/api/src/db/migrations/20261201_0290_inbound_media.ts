// Inbound WhatsApp media (docs/messaging.md "Media"): the worker downloads an inbound message's
// image, document, audio/voice or video from the provider, checks its sha256 and size, and keeps it
// AES-256-GCM-encrypted in the blob store under the patient's (or prospect's) data key. The state
// of the download lives in the message row; retries are durable (media_next_at).
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';
const COLS = 'media_state, media_blob_id, media_content_type, media_size, media_attempts, media_next_at, media_error';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table inbound_messages
      add column media_state text check (media_state in ('pending','stored','too_large','refused','failed')),
      add column media_blob_id text unique check (media_blob_id ~ '^[A-Za-z0-9_-]{20,64}$'),
      add column media_content_type text check (length(media_content_type) <= 200),
      add column media_size bigint check (media_size >= 0),
      add column media_attempts integer not null default 0,
      add column media_next_at timestamptz,
      add column media_error text check (length(media_error) <= 1000),
      add check (media_blob_id is null or media_state = 'stored');
    create index inbound_media_due on inbound_messages (media_next_at) where media_state = 'pending';
    -- messages stored before this migration: their media ids are in the encrypted content; the worker
    -- tries them (Meta keeps media about 30 days; older ones end as 'failed')
    update inbound_messages set media_state = 'pending', media_next_at = now() where kind in ('image','document','voice','audio','video');
    grant update (${COLS}) on inbound_messages to ${APP_ROLE};
    -- the worker's pass across organizations: which have media due, nothing else
    create function inbound_media_due_organizations() returns setof uuid language sql stable
      security definer set search_path = public, pg_temp as $$
      select distinct organization_id from inbound_messages where media_state = 'pending' and media_next_at <= now()
    $$;
    revoke all on function inbound_media_due_organizations() from public;
    grant execute on function inbound_media_due_organizations() to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists inbound_media_due_organizations();
    revoke update (${COLS}) on inbound_messages from ${APP_ROLE};
    drop index if exists inbound_media_due;
    alter table inbound_messages drop column media_state, drop column media_blob_id, drop column media_content_type,
      drop column media_size, drop column media_attempts, drop column media_next_at, drop column media_error;
  `);
}
