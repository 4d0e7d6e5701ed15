DROP TABLE broadcast_recipients;
DROP INDEX conversations_broadcast_idx;
ALTER TABLE conversations DROP CONSTRAINT conversations_broadcast_fkey;
DROP TABLE broadcasts;
DROP TABLE group_members;
DROP TABLE groups;
ALTER TABLE recipients DROP COLUMN email_opt_out_source, DROP COLUMN sms_opt_out_source,
    DROP COLUMN timezone, DROP COLUMN location_id;
