DELETE FROM conversation_events WHERE kind = 'recipient_updated';
ALTER TABLE conversation_events DROP CONSTRAINT conversation_events_kind_check;
ALTER TABLE conversation_events ADD CONSTRAINT conversation_events_kind_check
    CHECK (kind IN ('created', 'message', 'message_status', 'assigned', 'unassigned',
                    'opened', 'read', 'closed', 'reopened', 'opted_out', 'opted_in'));
