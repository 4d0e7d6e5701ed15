-- Message search reads each message's words from a stored column instead
-- of parsing its body again wherever a search tests a message (about 10 µs
-- a message: the newest-first walk, the snippet's message). Measured on
-- 1,000,000 messages: walking 200 conversations' messages for a common
-- word took 9.6 ms parsing bodies and 2.4 ms reading the column
-- (BENCHMARKS.md, "Issue 13: message text from a stored column").
--
-- The cost: the column holds the words with their positions (phrases need
-- them), about 145 bytes a message against 60 for an average body; adding
-- it rewrites the table once.
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;

-- The same index as messages_body_search_idx (20261211000201), over the
-- column. fastupdate queues a new message's words in the pending list, so
-- the inbound hot path (B2) pays one append per message.
CREATE INDEX messages_search_idx ON messages USING gin (search) WITH (fastupdate = on);
DROP INDEX messages_body_search_idx;

-- A search walks an organization's messages newest first (by creation
-- time, the order it lists them in) and stops at a page; without this it
-- read every organization's messages to find one's.
CREATE INDEX messages_org_created_idx ON messages (org_id, created_at, id);

-- The statistics the search's plan choice reads (search_words.go): ANALYZE
-- keeps the column's most common words, 10 per unit of the target.
ALTER TABLE messages ALTER COLUMN search SET STATISTICS 1000;
