-- Pending receipts are dropped: without them a receipt that beats its send
-- is lost again, which is what the schema before this step did.
DROP INDEX IF EXISTS message_parts_pending_idx;
DELETE FROM message_parts WHERE message_id IS NULL;
ALTER TABLE message_parts ALTER COLUMN message_id SET NOT NULL;
