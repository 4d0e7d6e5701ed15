-- CSV imports of recipients (issue 13). The uploaded file is kept in the
-- row, so a worker on any node can run it. A run validates the file into
-- import_rows in batches (progress: processed of total), then applies
-- them in one transaction; cancelling before that discards the staged
-- rows, so nothing is ever half-imported.

CREATE TABLE imports (
    id           bigserial PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_by   bigint,
    filename     text NOT NULL DEFAULT '' CHECK (length(filename) <= 255),
    data         bytea NOT NULL,
    -- The field each column holds ('' = ignored), by column position.
    mapping      jsonb NOT NULL DEFAULT '[]',
    group_id     bigint,
    location_id  bigint,
    -- preview: uploaded, its mapping not yet confirmed (the page);
    -- running: queued or being staged and applied.
    status       text NOT NULL DEFAULT 'preview'
                 CHECK (status IN ('preview', 'running', 'done', 'failed', 'cancelled')),
    status_reason text NOT NULL DEFAULT '',
    total        integer NOT NULL DEFAULT 0,
    processed    integer NOT NULL DEFAULT 0,
    -- staged: every row is in import_rows; a retried run goes straight
    -- to the apply.
    staged       boolean NOT NULL DEFAULT false,
    imported     integer NOT NULL DEFAULT 0,
    merged       integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users(org_id, id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (org_id, group_id) REFERENCES groups(org_id, id) ON DELETE SET NULL (group_id),
    FOREIGN KEY (org_id, location_id) REFERENCES locations(org_id, id) ON DELETE SET NULL (location_id)
);
CREATE INDEX imports_org_idx ON imports (org_id, id DESC);

-- The validated people of a running import, one per distinct phone or
-- email of the file (rows of the file that name the same person are
-- merged before they get here); gone once the import is applied or
-- cancelled.
CREATE TABLE import_rows (
    import_id      bigint NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    row_no         integer NOT NULL,
    name           text NOT NULL DEFAULT '',
    phone          text,
    email          text,
    timezone       text NOT NULL DEFAULT '',
    sms_opt_out    boolean NOT NULL DEFAULT false,
    email_opt_out  boolean NOT NULL DEFAULT false,
    -- Rows of the file merged into this one (1 + the later duplicates).
    rows_count     integer NOT NULL DEFAULT 1,
    -- Set while applying: the recipient it became or merged into.
    recipient_id   bigint,
    created        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (import_id, row_no)
);

-- Rows refused, with why: the error report (its original values are
-- read again from the stored file).
CREATE TABLE import_errors (
    import_id  bigint NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    row_no     integer NOT NULL,
    field      text NOT NULL DEFAULT '',
    message    text NOT NULL
);
CREATE INDEX import_errors_import_idx ON import_errors (import_id, row_no);
