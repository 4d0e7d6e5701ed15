-- Search reaches message text (issue 13): a full-text index over every
-- message's body, notes included (notes are the team's own text, and only
-- the team searches). 'simple' keeps words as written, lower-cased (no
-- stemming, no stop words), so any language and any word (a name, an
-- order number) is found as it was typed.
--
-- fastupdate (the default, said here on purpose) queues each new message's
-- words in the index's pending list and merges them in bulk, so the
-- inbound hot path (B2) pays one list append per message instead of an
-- insertion per word.
CREATE INDEX messages_body_search_idx ON messages USING gin (to_tsvector('simple', body))
    WITH (fastupdate = on);

-- The planner's estimate of how many messages hold a word comes from the
-- most common words ANALYZE keeps (10 per unit of the target). With the
-- default, a rare word was estimated as common and a query walked the
-- newest conversations for seconds; with 1,000, 10,000 words are kept.
ALTER INDEX messages_body_search_idx ALTER COLUMN 1 SET STATISTICS 1000;
