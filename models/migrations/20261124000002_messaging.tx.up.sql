-- Recipients, conversations and messages: the record every live screen,
-- job and report is built from. The outbox carries follow-up work from a
-- committed transaction to the job queue (architecture.md, "Outbox").

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE recipients (
    id                  bigserial PRIMARY KEY,
    org_id              bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name                text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    phone               text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    email               text CHECK (email = lower(email) AND email LIKE '%_@_%'),
    sms_opted_out_at    timestamptz,
    email_opted_out_at  timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (phone IS NOT NULL OR email IS NOT NULL),
    UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX recipients_org_phone_key ON recipients (org_id, phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX recipients_org_email_key ON recipients (org_id, email) WHERE email IS NOT NULL;
-- One trigram index over the combined expression: the planner uses it for
-- substring search on name, email and phone at once (architecture.md).
CREATE INDEX recipients_search_trgm ON recipients USING gin
    ((name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')) gin_trgm_ops);

-- Opt-out history: every change of a recipient's per-channel consent.
CREATE TABLE recipient_consent_events (
    id            bigserial PRIMARY KEY,
    org_id        bigint NOT NULL,
    recipient_id  bigint NOT NULL,
    channel       text NOT NULL CHECK (channel IN ('sms', 'email')),
    action        text NOT NULL CHECK (action IN ('opt_out', 'opt_in')),
    source        text NOT NULL CHECK (source IN ('keyword', 'receipt', 'agent', 'import')),
    detail        text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, recipient_id) REFERENCES recipients(org_id, id) ON DELETE CASCADE
);
CREATE INDEX recipient_consent_events_recipient_idx ON recipient_consent_events (recipient_id, created_at);

CREATE TABLE conversations (
    id                    bigserial PRIMARY KEY,
    org_id                bigint NOT NULL,
    inbox_id              bigint NOT NULL,
    recipient_id          bigint NOT NULL,
    channel               text NOT NULL CHECK (channel IN ('sms', 'email')),
    status                text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'closed')),
    origin                text NOT NULL CHECK (origin IN ('agent', 'broadcast', 'recipient')),
    assignee_id           bigint,
    -- Set when a broadcast started the chat; the broadcasts table (a later
    -- migration) adds the foreign key.
    broadcast_id          bigint,
    -- An inbound message to a closed conversation starts a new one linked
    -- to the earlier one, whose history stays visible.
    previous_id           bigint REFERENCES conversations(id) ON DELETE SET NULL,
    last_message_at       timestamptz NOT NULL DEFAULT now(),
    last_message_preview  text NOT NULL DEFAULT '',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    closed_at             timestamptz,
    FOREIGN KEY (org_id, inbox_id) REFERENCES inboxes(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, recipient_id) REFERENCES recipients(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, assignee_id) REFERENCES users(org_id, id),
    UNIQUE (org_id, id)
);
-- At most one New/Open conversation per (inbox, recipient, channel).
CREATE UNIQUE INDEX conversations_one_active_key ON conversations (inbox_id, recipient_id, channel)
    WHERE status <> 'closed';
CREATE INDEX conversations_org_activity_idx ON conversations (org_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_inbox_activity_idx ON conversations (inbox_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_recipient_idx ON conversations (recipient_id);

CREATE TABLE messages (
    id                   bigserial PRIMARY KEY,
    org_id               bigint NOT NULL,
    conversation_id      bigint NOT NULL,
    direction            text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    channel              text NOT NULL CHECK (channel IN ('sms', 'email')),
    -- A note is visible to the team only and is never sent.
    is_note              boolean NOT NULL DEFAULT false,
    body                 text NOT NULL,
    author_type          text NOT NULL CHECK (author_type IN ('user', 'recipient', 'automation')),
    author_user_id       bigint,
    -- 'none' for notes, which are never sent.
    status               text NOT NULL CHECK (status IN ('none', 'received', 'queued', 'sending', 'sent', 'delivered', 'failed')),
    status_reason        text NOT NULL DEFAULT '',
    provider             text NOT NULL DEFAULT '',
    provider_message_id  text,
    encoding             text NOT NULL DEFAULT '' CHECK (encoding IN ('', 'text', 'unicode')),
    segments             integer NOT NULL DEFAULT 0 CHECK (segments >= 0),
    credits_charged      integer NOT NULL DEFAULT 0 CHECK (credits_charged >= 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz,
    delivered_at         timestamptz,
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, author_user_id) REFERENCES users(org_id, id)
);
-- A provider retry of the same message is a no-op (Vonage retries an
-- unacknowledged inbound message for 24 hours).
CREATE UNIQUE INDEX messages_provider_id_key ON messages (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);

-- Work that must reach the job queue once its transaction commits. The
-- relay enqueues pending rows with task id = outbox id; a sweep re-enqueues
-- anything not done after a threshold, so losing Redis loses no work.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    org_id        bigint REFERENCES organizations(id) ON DELETE CASCADE,
    task_type     text NOT NULL,
    queue         text NOT NULL DEFAULT 'default',
    payload       jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    enqueued_at   timestamptz,
    done_at       timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE done_at IS NULL;
