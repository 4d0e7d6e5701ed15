-- Chat credits (issue 12): each organization's rate card, each location's
-- credit account (the balance, split into the plan's credits and purchased
-- ones, and the current period), the append-only ledger the balance is the
-- sum of, and the charges waiting for the credits:charge task.

-- How long a plan period lasts, in months from plan_period_start (the
-- contract's anchor: periods run anchor + k * months).
ALTER TABLE locations ADD COLUMN plan_period_months integer NOT NULL DEFAULT 1
    CHECK (plan_period_months BETWEEN 1 AND 36);

-- What one message costs, per channel and kind. SMS is per segment; MMS
-- and email are per message. A missing row means the defaults.
CREATE TABLE rate_cards (
    org_id           bigint PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    sms_outbound     integer NOT NULL DEFAULT 2 CHECK (sms_outbound BETWEEN 0 AND 1000),
    sms_inbound      integer NOT NULL DEFAULT 2 CHECK (sms_inbound BETWEEN 0 AND 1000),
    sms_forwarded    integer NOT NULL DEFAULT 2 CHECK (sms_forwarded BETWEEN 0 AND 1000),
    mms_outbound     integer NOT NULL DEFAULT 4 CHECK (mms_outbound BETWEEN 0 AND 1000),
    mms_inbound      integer NOT NULL DEFAULT 4 CHECK (mms_inbound BETWEEN 0 AND 1000),
    mms_forwarded    integer NOT NULL DEFAULT 4 CHECK (mms_forwarded BETWEEN 0 AND 1000),
    email_outbound   integer NOT NULL DEFAULT 1 CHECK (email_outbound BETWEEN 0 AND 1000),
    email_inbound    integer NOT NULL DEFAULT 1 CHECK (email_inbound BETWEEN 0 AND 1000),
    email_forwarded  integer NOT NULL DEFAULT 1 CHECK (email_forwarded BETWEEN 0 AND 1000),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One account per location: balance = plan_balance + purchased_balance,
-- always equal to the sum of the location's ledger entries (each part to
-- its own column's sum). plan_balance goes below zero only by overage
-- (inbound and forwarded messages are always charged; compliance replies
-- too); purchased credits never do. period_* is the plan period granted
-- last; used_* count this period's charges by kind (refunds subtract);
-- alert_level is the highest usage alert sent this period (0, 80, 95, 100).
CREATE TABLE credit_accounts (
    location_id        bigint PRIMARY KEY REFERENCES locations(id) ON DELETE CASCADE,
    org_id             bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    plan_balance       bigint NOT NULL DEFAULT 0,
    purchased_balance  bigint NOT NULL DEFAULT 0 CHECK (purchased_balance >= 0),
    period_start       timestamptz,
    period_end         timestamptz,
    used_outbound      bigint NOT NULL DEFAULT 0,
    used_inbound       bigint NOT NULL DEFAULT 0,
    used_forwarded     bigint NOT NULL DEFAULT 0,
    alert_level        integer NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((period_start IS NULL) = (period_end IS NULL))
);
CREATE INDEX credit_accounts_period_end_idx ON credit_accounts (period_end);

INSERT INTO credit_accounts (location_id, org_id) SELECT id, org_id FROM locations;

-- Every location has its account from the moment it exists.
CREATE FUNCTION credit_account_for_location() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO credit_accounts (location_id, org_id) VALUES (NEW.id, NEW.org_id);
    RETURN NEW;
END $$;
CREATE TRIGGER locations_credit_account AFTER INSERT ON locations
    FOR EACH ROW EXECUTE FUNCTION credit_account_for_location();

-- The ledger: append-only. A charge is idempotent by its key
-- ('charge:<message>:<kind>'), a refund by 'refund:<message>', a period
-- grant by 'period:<location>:<period start>'; nothing is ever updated
-- or deleted (only an organization's removal cascades through it).
CREATE TABLE credit_ledger (
    id               bigserial PRIMARY KEY,
    org_id           bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    location_id      bigint NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('outbound', 'inbound', 'forwarded', 'refund',
                         'purchase', 'period', 'plan_change')),
    idem_key         text NOT NULL UNIQUE,
    plan_delta       bigint NOT NULL,
    purchased_delta  bigint NOT NULL,
    message_id       bigint,
    conversation_id  bigint,
    inbox_id         bigint,
    channel          text,
    user_id          bigint,
    note             text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_ledger_location_time_idx ON credit_ledger (location_id, created_at);
CREATE INDEX credit_ledger_conversation_idx ON credit_ledger (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX credit_ledger_message_idx ON credit_ledger (message_id) WHERE message_id IS NOT NULL;

CREATE FUNCTION credit_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- pg_trigger_depth() > 1: a cascade from deleting the organization.
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'credit_ledger is append-only: % refused', TG_OP USING ERRCODE = 'raise_exception';
END $$;
CREATE TRIGGER credit_ledger_append_only BEFORE UPDATE OR DELETE ON credit_ledger
    FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only();

-- Charges written with the message (its transaction) and settled by
-- credits:charge, which moves them into the ledger. credits is the price
-- from the rate card when the message was stored (also on the message).
CREATE TABLE credit_pending (
    message_id   bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('outbound', 'inbound', 'forwarded')),
    org_id       bigint NOT NULL,
    location_id  bigint NOT NULL,
    credits      integer NOT NULL CHECK (credits >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, kind)
);
CREATE INDEX credit_pending_location_idx ON credit_pending (location_id, message_id);
