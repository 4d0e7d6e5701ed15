-- Live chats: every change to a conversation is an event row whose id is
-- the live sequence. A browser that reconnects asks for the events after
-- the last id it saw; the thread timeline is the events joined with their
-- messages.

ALTER TABLE conversations
    -- Inbound messages no agent has opened yet (team-wide, not per user:
    -- an inbox is shared, and a frame is rendered once for every viewer).
    ADD COLUMN unread_count integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0);

CREATE TABLE conversation_events (
    id               bigserial PRIMARY KEY,
    org_id           bigint NOT NULL,
    inbox_id         bigint NOT NULL,
    conversation_id  bigint NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('created', 'message', 'message_status', 'assigned', 'unassigned',
                                                   'opened', 'closed', 'reopened', 'opted_out', 'opted_in')),
    message_id       bigint REFERENCES messages(id) ON DELETE CASCADE,
    actor_user_id    bigint,
    -- Kind-specific facts, e.g. {"assignee_id": 3, "assignee_name": "Sam"}.
    detail           jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations(org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, actor_user_id) REFERENCES users(org_id, id)
);
CREATE INDEX conversation_events_org_idx ON conversation_events (org_id, id);
CREATE INDEX conversation_events_conversation_idx ON conversation_events (conversation_id, id);

-- The chats list filtered by status or assignee, newest activity first.
CREATE INDEX conversations_org_status_activity_idx ON conversations (org_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_org_assignee_activity_idx ON conversations (org_id, assignee_id, last_message_at DESC, id DESC);
