-- The activity index carries every column the Chats list filters on and
-- the search text (20261208000601): the search's walk is an index-only
-- scan (where the visibility map allows) and fetches only the rows it
-- keeps. Same key as before, so every other use of the index is unchanged.
-- Built in its own migration, after the search text's backfill committed:
-- built in the same transaction, it also indexed the rows the backfill
-- replaced (1.7 times the size at 100,000 conversations).
DROP INDEX conversations_org_activity_idx;
CREATE INDEX conversations_org_activity_idx ON conversations (org_id, last_message_at DESC, id DESC)
    INCLUDE (status, assignee_id, inbox_id, search_text);
