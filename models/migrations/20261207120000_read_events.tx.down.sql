DROP INDEX conversation_events_opened_idx;
DELETE FROM conversation_events WHERE kind = 'read';
ALTER TABLE conversation_events DROP CONSTRAINT conversation_events_kind_check;
ALTER TABLE conversation_events ADD CONSTRAINT conversation_events_kind_check
    CHECK (kind IN ('created', 'message', 'message_status', 'assigned', 'unassigned',
                    'opened', 'closed', 'reopened', 'opted_out', 'opted_in'));
