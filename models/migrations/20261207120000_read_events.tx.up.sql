-- A "read" event: an agent saw a conversation's new messages (its unread
-- count went to zero) without a timeline entry of its own. It exists so the
-- change reaches every screen in order with the conversation's other
-- changes (its id is the live sequence); the timeline never shows it.
ALTER TABLE conversation_events DROP CONSTRAINT conversation_events_kind_check;
ALTER TABLE conversation_events ADD CONSTRAINT conversation_events_kind_check
    CHECK (kind IN ('created', 'message', 'message_status', 'assigned', 'unassigned',
                    'opened', 'read', 'closed', 'reopened', 'opted_out', 'opted_in'));
-- "Has this agent opened this conversation before?" (MarkOpened).
CREATE INDEX conversation_events_opened_idx ON conversation_events (conversation_id, actor_user_id) WHERE kind = 'opened';
