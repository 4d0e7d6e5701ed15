DROP INDEX IF EXISTS messages_org_created_idx;
CREATE INDEX messages_body_search_idx ON messages USING gin (to_tsvector('simple', body))
    WITH (fastupdate = on);
ALTER INDEX messages_body_search_idx ALTER COLUMN 1 SET STATISTICS 1000;
ALTER TABLE messages DROP COLUMN search;
