-- Usage alerts (issue 12): one row per location, plan period and threshold
-- (80, 95, 100 % of the plan's credits), written by the credits:alert task
-- before it emails the organization's admins. emailed lists the admins
-- already sent it, so a retried task emails nobody twice; sent_at is set
-- once every admin has it (and the live notice went out).
CREATE TABLE credit_alerts (
    id            bigserial PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    location_id   bigint NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    period_start  timestamptz NOT NULL,
    level         integer NOT NULL CHECK (level IN (80, 95, 100)),
    emailed       bigint[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    UNIQUE (location_id, period_start, level)
);
