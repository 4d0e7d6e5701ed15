-- Email cannot be sent yet (the email channel is a later issue), but an
-- earlier version queued email replies under a task no worker served: they
-- sat "queued" forever while their outbox rows were swept back again and
-- again. Fail them with the reason agents now see, show that on their
-- timelines, and close their outbox rows.
WITH failed AS (
    UPDATE messages SET status = 'failed',
        status_reason = 'Email is not available yet on this Parley; this message was never sent.'
    WHERE direction = 'outbound' AND channel = 'email' AND NOT is_note AND status IN ('queued', 'sending')
    RETURNING id, org_id, conversation_id
)
INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, message_id, detail)
SELECT f.org_id, c.inbox_id, f.conversation_id, 'message_status', f.id, '{"status": "failed"}'
FROM failed AS f JOIN conversations AS c ON c.id = f.conversation_id
ORDER BY f.id;

UPDATE outbox SET done_at = now(), last_error = 'email:send has no handler: email is not available yet'
WHERE task_type = 'email:send' AND done_at IS NULL;
