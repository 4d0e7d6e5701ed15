-- Organizations own everything; locations carry the timezone and the Chat
-- plan; inboxes are the addresses (an SMS number, an email address) that
-- conversations arrive on. Users log in with server-side sessions.

CREATE TABLE organizations (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE locations (
    id                 bigserial PRIMARY KEY,
    org_id             bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    timezone           text NOT NULL DEFAULT 'UTC',
    -- Chat works only while the plan is active (product.md, "Domain").
    plan_status        text NOT NULL DEFAULT 'inactive' CHECK (plan_status IN ('active', 'inactive', 'suspended')),
    plan_name          text NOT NULL DEFAULT '',
    plan_credits       integer NOT NULL DEFAULT 0 CHECK (plan_credits >= 0),
    plan_period_start  timestamptz,
    -- Optional quiet hours in the location's timezone; both set or both null.
    quiet_start        time,
    quiet_end          time,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name),
    UNIQUE (org_id, id),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

CREATE TABLE inboxes (
    id             bigserial PRIMARY KEY,
    org_id         bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    location_id    bigint NOT NULL,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Inbound SMS is routed by the number it was sent to, so a number
    -- belongs to exactly one inbox across all organizations.
    sms_number     text UNIQUE CHECK (sms_number ~ '^\+[1-9][0-9]{6,14}$'),
    email_address  text CHECK (email_address = lower(email_address) AND email_address LIKE '%_@_%'),
    help_text      text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, location_id) REFERENCES locations(org_id, id) ON DELETE CASCADE,
    UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX inboxes_email_address_key ON inboxes (email_address) WHERE email_address IS NOT NULL;
CREATE INDEX inboxes_location_idx ON inboxes (location_id);

CREATE TABLE users (
    id                   bigserial PRIMARY KEY,
    org_id               bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email                text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role                 text NOT NULL CHECK (role IN ('admin', 'manager', 'agent')),
    password_hash        text NOT NULL,
    -- An agent with all_inboxes = false sees only the inboxes in user_inboxes
    -- ("chat agent only"); admins and managers always see every inbox.
    all_inboxes          boolean NOT NULL DEFAULT true,
    disabled_at          timestamptz,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
-- People log in by email alone, so an address is unique across organizations.
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE user_inboxes (
    org_id    bigint NOT NULL,
    user_id   bigint NOT NULL,
    inbox_id  bigint NOT NULL,
    PRIMARY KEY (user_id, inbox_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, inbox_id) REFERENCES inboxes(org_id, id) ON DELETE CASCADE
);
CREATE INDEX user_inboxes_inbox_idx ON user_inboxes (inbox_id);

CREATE TABLE sessions (
    id            bigserial PRIMARY KEY,
    -- Only a SHA-256 of the cookie's token is stored: a database leak does
    -- not hand out live sessions.
    token_hash    bytea NOT NULL UNIQUE,
    user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ip            text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
