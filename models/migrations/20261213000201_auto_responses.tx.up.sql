-- Auto-responses (issue 14): per inbox, an initial response to the first
-- message of a new conversation and an out-of-office reply outside
-- business hours or during a closure, each with its text (placeholders
-- {location}, {response_time}, {notice}), and how long to wait before
-- answering the same recipient again. No row: both off, a day's cool-down.
CREATE TABLE inbox_auto_responses (
    inbox_id              bigint PRIMARY KEY,
    org_id                bigint NOT NULL,
    initial_enabled       boolean NOT NULL DEFAULT false,
    initial_body          text NOT NULL DEFAULT '' CHECK (length(initial_body) <= 1600),
    out_of_office_enabled boolean NOT NULL DEFAULT false,
    out_of_office_body    text NOT NULL DEFAULT '' CHECK (length(out_of_office_body) <= 1600),
    cooldown_minutes      integer NOT NULL DEFAULT 1440 CHECK (cooldown_minutes BETWEEN 0 AND 43200),
    response_time         text NOT NULL DEFAULT '' CHECK (length(response_time) <= 100),
    notice                text NOT NULL DEFAULT '' CHECK (length(notice) <= 500),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, inbox_id) REFERENCES inboxes (org_id, id) ON DELETE CASCADE
);
