DROP TRIGGER recipients_search_text ON recipients;
DROP FUNCTION recipients_search_text();
DROP TRIGGER conversations_search_text ON conversations;
DROP FUNCTION conversations_search_text();
ALTER TABLE conversations DROP COLUMN search_text;
DROP INDEX recipients_search_trgm;
CREATE INDEX recipients_search_trgm ON recipients USING gin
    ((name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')) gin_trgm_ops);
ALTER TABLE recipients DROP COLUMN search_text;
DROP FUNCTION recipient_search_text(text, text, text);
