-- Groups, consent provenance and chat-enabled broadcasts (issue 13).

-- A recipient's home location (set by import or by hand; a location's
-- audience is its home recipients and everyone who has talked to one of
-- its inboxes) and time zone ('' = derived from the phone number, else the
-- location's), which quiet hours are judged in.
ALTER TABLE recipients ADD COLUMN location_id bigint REFERENCES locations(id) ON DELETE SET NULL;
ALTER TABLE recipients ADD COLUMN timezone text NOT NULL DEFAULT '' CHECK (length(timezone) <= 64);
CREATE INDEX recipients_location_idx ON recipients (location_id) WHERE location_id IS NOT NULL;

-- Who holds the current opt-out (the source of the change that made it):
-- a keyword opt-out is undone only by the recipient's START, a manual one
-- only by staff. NULL while opted in.
ALTER TABLE recipients ADD COLUMN sms_opt_out_source text
    CHECK (sms_opt_out_source IN ('keyword', 'receipt', 'agent', 'import', 'unsubscribe'));
ALTER TABLE recipients ADD COLUMN email_opt_out_source text
    CHECK (email_opt_out_source IN ('keyword', 'receipt', 'agent', 'import', 'unsubscribe'));
UPDATE recipients AS r SET sms_opt_out_source = (
    SELECT ce.source FROM recipient_consent_events AS ce
    WHERE ce.recipient_id = r.id AND ce.channel = 'sms' AND ce.action = 'opt_out'
    ORDER BY ce.id DESC LIMIT 1)
WHERE r.sms_opted_out_at IS NOT NULL;
UPDATE recipients AS r SET email_opt_out_source = (
    SELECT ce.source FROM recipient_consent_events AS ce
    WHERE ce.recipient_id = r.id AND ce.channel = 'email' AND ce.action = 'opt_out'
    ORDER BY ce.id DESC LIMIT 1)
WHERE r.email_opted_out_at IS NOT NULL;

CREATE TABLE groups (
    id          bigserial PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX groups_org_name_key ON groups (org_id, lower(name));

CREATE TABLE group_members (
    org_id        bigint NOT NULL,
    group_id      bigint NOT NULL,
    recipient_id  bigint NOT NULL,
    added_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, recipient_id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, recipient_id) REFERENCES recipients(org_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_recipient_idx ON group_members (recipient_id);

CREATE TABLE broadcasts (
    id                   bigserial PRIMARY KEY,
    org_id               bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    location_id          bigint NOT NULL,
    inbox_id             bigint NOT NULL,
    created_by           bigint,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    channels             text[] NOT NULL CHECK (cardinality(channels) BETWEEN 1 AND 2 AND channels <@ ARRAY['sms', 'email']),
    -- What the audience was asked as: {"group_ids": [...]}, {"location_id": N}
    -- or {"q": "..."}; the recipients it resolved to are broadcast_recipients.
    audience             jsonb NOT NULL,
    body                 text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    subject              text NOT NULL DEFAULT '' CHECK (length(subject) <= 300),
    chat_enabled         boolean NOT NULL DEFAULT true,
    reply_window_hours   integer NOT NULL DEFAULT 72 CHECK (reply_window_hours BETWEEN 1 AND 720),
    respect_quiet_hours  boolean NOT NULL DEFAULT false,
    -- An emergency broadcast ignores quiet hours; it still never reaches
    -- someone who opted out.
    emergency            boolean NOT NULL DEFAULT false,
    status               text NOT NULL DEFAULT 'scheduled'
                         CHECK (status IN ('scheduled', 'sending', 'sent', 'cancelled', 'failed')),
    status_reason        text NOT NULL DEFAULT '',
    send_at              timestamptz NOT NULL DEFAULT now(),
    started_at           timestamptz,
    finished_at          timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, location_id) REFERENCES locations(org_id, id),
    FOREIGN KEY (org_id, inbox_id) REFERENCES inboxes(org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users(org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX broadcasts_org_idx ON broadcasts (org_id, id DESC);
CREATE INDEX broadcasts_due_idx ON broadcasts (send_at) WHERE status IN ('scheduled', 'sending');

ALTER TABLE conversations ADD CONSTRAINT conversations_broadcast_fkey
    FOREIGN KEY (broadcast_id) REFERENCES broadcasts(id) ON DELETE SET NULL;
CREATE INDEX conversations_broadcast_idx ON conversations (broadcast_id) WHERE broadcast_id IS NOT NULL;

-- One row per recipient and channel a broadcast addresses, written when it
-- starts. pending: not yet messaged (due_at: not before, for quiet hours);
-- queued: its message exists (message_id; the message's status is the
-- delivery state); skipped: never messaged (skip_reason); cancelled: the
-- broadcast was cancelled first.
CREATE TABLE broadcast_recipients (
    org_id           bigint NOT NULL,
    broadcast_id     bigint NOT NULL,
    recipient_id     bigint NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('sms', 'email')),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'queued', 'skipped', 'cancelled')),
    skip_reason      text NOT NULL DEFAULT '' CHECK (skip_reason IN ('', 'opted_out', 'no_address')),
    due_at           timestamptz NOT NULL DEFAULT now(),
    timezone         text NOT NULL DEFAULT '',
    conversation_id  bigint,
    message_id       bigint REFERENCES messages(id) ON DELETE SET NULL,
    PRIMARY KEY (broadcast_id, recipient_id, channel),
    FOREIGN KEY (org_id, broadcast_id) REFERENCES broadcasts(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, recipient_id) REFERENCES recipients(org_id, id) ON DELETE CASCADE
);
CREATE INDEX broadcast_recipients_due_idx ON broadcast_recipients (broadcast_id, due_at) WHERE status = 'pending';
CREATE INDEX broadcast_recipients_recipient_idx ON broadcast_recipients (recipient_id);
CREATE UNIQUE INDEX broadcast_recipients_message_key ON broadcast_recipients (message_id) WHERE message_id IS NOT NULL;
