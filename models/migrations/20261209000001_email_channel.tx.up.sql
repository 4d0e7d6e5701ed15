-- The email channel (issue 11).

-- The email side of a conversation: its reply token, which makes the
-- per-conversation address <inbox-local>+<token>@<PARLEY_EMAIL_DOMAIN>
-- that threads a recipient's replies back, and the subject every message
-- in it carries ("Re: <subject>" once it answers something).
CREATE TABLE email_threads (
    conversation_id  bigint PRIMARY KEY,
    org_id           bigint NOT NULL,
    token            text NOT NULL UNIQUE CHECK (token ~ '^[a-z2-7]{32}$'),
    subject          text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations(org_id, id) ON DELETE CASCADE
);

-- What an email message carries besides the text agents see (messages.body:
-- for inbound mail, the new text with quoted history and signatures
-- stripped). Message ids are bare, without angle brackets.
CREATE TABLE email_messages (
    message_id    bigint PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    org_id        bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    header_id     text NOT NULL,                 -- its Message-ID
    in_reply_to   text NOT NULL DEFAULT '',
    refs          text[] NOT NULL DEFAULT '{}',  -- its References, oldest first
    subject       text NOT NULL DEFAULT '',
    from_addr     text NOT NULL DEFAULT '',      -- the From address
    to_addr       text NOT NULL DEFAULT '',      -- inbound: the address it was delivered to; outbound: the recipient's
    -- Outbound: the token of its own return path (the envelope sender), so a
    -- bounce names the message it reports on.
    bounce_token  text UNIQUE CHECK (bounce_token ~ '^[a-z2-7]{32}$'),
    -- Inbound: why it looks automated (RFC 3834), empty for a person's mail.
    automated     text NOT NULL DEFAULT '',
    full_text     text NOT NULL DEFAULT '',      -- inbound: the whole text, before stripping
    raw           bytea,                         -- the message as received or as handed to the relay
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- Threading by In-Reply-To / References looks up the ids we sent.
CREATE INDEX email_messages_header_idx ON email_messages (org_id, header_id);

-- Files attached to an inbound email, served only to users who may see the
-- conversation, always as downloads. One over the size limit is listed
-- (omitted) but not kept.
CREATE TABLE attachments (
    id            bigserial PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    message_id    bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    filename      text NOT NULL CHECK (filename <> ''),
    content_type  text NOT NULL DEFAULT 'application/octet-stream',
    size          bigint NOT NULL CHECK (size >= 0),
    omitted       boolean NOT NULL DEFAULT false,
    data          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (omitted = (data IS NULL))
);
CREATE INDEX attachments_message_idx ON attachments (message_id);

-- A message a machine wrote (RFC 3834 signs on inbound mail; later, an
-- auto-responder's SMS): stored and shown, never answered automatically.
ALTER TABLE messages ADD COLUMN automated boolean NOT NULL DEFAULT false;

-- The unguessable token of a recipient's one-click unsubscribe link
-- (List-Unsubscribe, RFC 8058), made when first needed.
ALTER TABLE recipients ADD COLUMN unsubscribe_token text UNIQUE CHECK (unsubscribe_token ~ '^[a-z2-7]{32}$');
