-- Administration (issue 10): instance operators, organization settings,
-- archived locations and inboxes, business hours and closures, profile
-- preferences, API tokens, one-time password links, idempotent API sends,
-- and the append-only audit log.

-- Operators run the instance (the Asynq dashboard, instance health); they
-- are users of some organization, but the flag gives them nothing inside
-- another organization.
ALTER TABLE users ADD COLUMN is_operator boolean NOT NULL DEFAULT false;
-- Profile preferences: '' time zone means the location's (or the browser's).
ALTER TABLE users ADD COLUMN timezone text NOT NULL DEFAULT '';
-- clock: '' follows the browser's locale, '12' or '24' the user's choice.
ALTER TABLE users ADD COLUMN clock text NOT NULL DEFAULT '' CHECK (clock IN ('', '12', '24'));
ALTER TABLE users ADD COLUMN notify_sound boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN notify_desktop boolean NOT NULL DEFAULT false;

-- Local phone formats are read in this country (ISO 3166-1 alpha-2).
ALTER TABLE organizations ADD COLUMN default_country text NOT NULL DEFAULT 'US'
    CHECK (default_country ~ '^[A-Z]{2}$');

-- A location or inbox with history is archived, never deleted.
ALTER TABLE locations ADD COLUMN archived_at timestamptz;
ALTER TABLE inboxes ADD COLUMN archived_at timestamptz;
-- Business hours per weekday in the location's timezone:
-- {"mon": [["09:00","17:00"]], ...}; a missing or empty day is closed.
-- '{}' (the default) means no hours are set: always open.
ALTER TABLE inboxes ADD COLUMN business_hours jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(business_hours) = 'object');

-- Holidays and closures: whole days, in the location's timezone, inclusive.
CREATE TABLE inbox_closures (
    id          bigserial PRIMARY KEY,
    org_id      bigint NOT NULL,
    inbox_id    bigint NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on),
    FOREIGN KEY (org_id, inbox_id) REFERENCES inboxes(org_id, id) ON DELETE CASCADE
);
CREATE INDEX inbox_closures_inbox_idx ON inbox_closures (inbox_id, starts_on);

-- API tokens: shown once, stored as a SHA-256, acting as their user.
CREATE TABLE api_tokens (
    id            bigserial PRIMARY KEY,
    org_id        bigint NOT NULL,
    user_id       bigint NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, id) ON DELETE CASCADE
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- One-time links to set a password (a reset, or an invitation).
CREATE TABLE password_links (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    purpose     text NOT NULL CHECK (purpose IN ('reset', 'invite')),
    created_by  bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_links_user_idx ON password_links (user_id);

-- Idempotency-Key on API POSTs that create a message or a broadcast: the
-- same key from the same user within 24 h returns the first result.
CREATE TABLE idempotency_keys (
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- method and path the key was first used with; another request with
    -- the same key is a 422, not a replay.
    request     text NOT NULL,
    status      integer,
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The audit log: every administrative change, who, when, from where, and
-- what changed. Append-only: the trigger refuses UPDATE and DELETE (an
-- organization's deletion cascades through TRUNCATE-free paths only in
-- operators' hands, so org_id carries no foreign key).
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    org_id         bigint,               -- NULL: an instance-wide (operator) change
    actor_user_id  bigint,               -- NULL: the CLI or the system
    actor_name     text NOT NULL DEFAULT '',
    via            text NOT NULL CHECK (via IN ('web', 'api', 'cli', 'system')),
    token_id       bigint,               -- the API token, when via = 'api'
    ip             text NOT NULL DEFAULT '',
    action         text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    target_type    text NOT NULL,
    target_id      bigint,
    target_name    text NOT NULL DEFAULT '',
    before         jsonb,
    after          jsonb,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, id DESC);
CREATE INDEX audit_log_org_target_idx ON audit_log (org_id, target_type, target_id, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Manual consent changes say who made them.
ALTER TABLE recipient_consent_events ADD COLUMN actor_user_id bigint;
-- Recipients get free-text notes the team keeps.
ALTER TABLE recipients ADD COLUMN notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000);
