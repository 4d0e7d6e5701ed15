-- Forwarding rules (issue 14): per inbox, whom to notify of each inbound
-- message, by SMS and/or email, when (schedule, forward_schedule.go), and
-- optionally only while unassigned or once unanswered for N minutes.
--
-- targets is a JSON array of {"user_id": n} | {"phone": "+E164"} |
-- {"email": "a@b"}, checked by the store on every write; a user who is
-- later disabled or loses the inbox is skipped when a message is forwarded.
CREATE TABLE forwarding_rules (
    id                 bigserial PRIMARY KEY,
    org_id             bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    inbox_id           bigint NOT NULL,
    targets            jsonb NOT NULL CHECK (jsonb_typeof(targets) = 'array' AND jsonb_array_length(targets) BETWEEN 1 AND 20),
    channels           text[] NOT NULL CHECK (cardinality(channels) BETWEEN 1 AND 2 AND channels <@ ARRAY['sms', 'email']),
    schedule           jsonb NOT NULL CHECK (schedule ? 'kind'),
    only_unassigned    boolean NOT NULL DEFAULT false,
    unanswered_minutes integer NOT NULL DEFAULT 0 CHECK (unanswered_minutes BETWEEN 0 AND 10080),
    created_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, inbox_id) REFERENCES inboxes (org_id, id) ON DELETE CASCADE
);

CREATE INDEX forwarding_rules_inbox_idx ON forwarding_rules (inbox_id, id);
