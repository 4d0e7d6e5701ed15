-- SMS delivery: concatenated inbound parts waiting for their siblings,
-- outbound parts (one Vonage message id and receipt each), and inbound
-- messages to numbers no inbox owns (kept, never dropped).

CREATE TABLE inbound_parts (
    id            bigserial PRIMARY KEY,
    provider      text NOT NULL,
    -- Each part has its own provider message id; a retried part is a no-op.
    provider_message_id text NOT NULL,
    msisdn        text NOT NULL,
    to_number     text NOT NULL,
    concat_ref    text NOT NULL,
    part          integer NOT NULL CHECK (part >= 1),
    total         integer NOT NULL CHECK (total >= 1 AND total <= 255),
    body          text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    -- Set once the whole message was assembled (and stored as a message).
    consumed_at   timestamptz,
    UNIQUE (provider, provider_message_id)
);
CREATE INDEX inbound_parts_ref_idx ON inbound_parts (provider, msisdn, to_number, concat_ref);

CREATE TABLE message_parts (
    id                  bigserial PRIMARY KEY,
    message_id          bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    provider            text NOT NULL,
    provider_message_id text NOT NULL,
    status              text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'delivered', 'failed')),
    err_code            integer NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_message_id)
);
CREATE INDEX message_parts_message_idx ON message_parts (message_id);

CREATE TABLE unrouted_messages (
    id                  bigserial PRIMARY KEY,
    provider            text NOT NULL,
    provider_message_id text NOT NULL,
    msisdn              text NOT NULL,
    to_number           text NOT NULL,
    body                text NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_message_id)
);

-- A compliance message (STOP/START confirmation, HELP answer) goes out
-- even to a recipient who just opted out; nothing else does.
ALTER TABLE messages ADD COLUMN compliance boolean NOT NULL DEFAULT false;
