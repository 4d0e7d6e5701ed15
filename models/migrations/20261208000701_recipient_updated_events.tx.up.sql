-- A "recipient_updated" event: the recipient's name, phone or email
-- changed. Like "read" it has no timeline entry; it exists so the new name
-- reaches every screen showing the recipient's open conversations, in order
-- with their other changes.
ALTER TABLE conversation_events DROP CONSTRAINT conversation_events_kind_check;
ALTER TABLE conversation_events ADD CONSTRAINT conversation_events_kind_check
    CHECK (kind IN ('created', 'message', 'message_status', 'assigned', 'unassigned',
                    'opened', 'read', 'closed', 'reopened', 'opted_out', 'opted_in',
                    'recipient_updated'));
