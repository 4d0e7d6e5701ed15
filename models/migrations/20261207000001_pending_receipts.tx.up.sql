-- A delivery receipt can arrive before the worker has recorded the send it
-- reports (the worker is slow, paused, or its commit is in flight). Such a
-- receipt is kept as a pending part: a message_parts row with no message
-- yet, under the same unique (provider, provider_message_id) key the
-- send's record writes. The two writers meet on that key, so whichever
-- commits second sees the other's row: the record adopts the pending part
-- with its status, or the receipt finds the recorded part.
ALTER TABLE message_parts ALTER COLUMN message_id DROP NOT NULL;
-- Pending parts are pruned by age (see models/receipt.go).
CREATE INDEX message_parts_pending_idx ON message_parts (updated_at) WHERE message_id IS NULL;
