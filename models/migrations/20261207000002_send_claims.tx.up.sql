-- A worker's claim on an outbound message: set when it marks the message
-- sending, so a second worker (a task copy re-enqueued after Redis lost
-- its data, say) does not send it again while the first may still be
-- sending; only a claim older than the lease is taken over (see ClaimSMS).
ALTER TABLE messages ADD COLUMN claimed_at timestamptz;
