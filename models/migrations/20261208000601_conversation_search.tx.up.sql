-- Search (B5): what a search matches of a recipient (name, email, phone),
-- lower-cased, stored on the recipient (a generated column, so a search
-- tests it without building and lower-casing the text for each row) and
-- copied onto each of its conversations, so the Chats list's walk tests
-- each conversation from the activity index alone (an index-only scan)
-- instead of fetching its row and its recipient.

-- recipient_search_text is the text a search matches: what the trigram
-- index recipients_search_trgm covered, lower-cased (a search is
-- case-insensitive).
CREATE FUNCTION recipient_search_text(name text, email text, phone text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')) $$;

ALTER TABLE recipients ADD COLUMN search_text text NOT NULL
    GENERATED ALWAYS AS (recipient_search_text(name, email, phone)) STORED;
DROP INDEX recipients_search_trgm;
CREATE INDEX recipients_search_trgm ON recipients USING gin (search_text gin_trgm_ops);

ALTER TABLE conversations ADD COLUMN search_text text NOT NULL DEFAULT '';
UPDATE conversations AS c SET search_text = r.search_text FROM recipients AS r WHERE r.id = c.recipient_id;

-- Kept in step by triggers, so no code path can forget it: a new
-- conversation (or one moved to another recipient) copies its recipient's
-- text; a recipient whose name, email or phone changes rewrites its
-- conversations'. That rewrite locks the recipient, then its
-- conversations: the order a keyword text (STOP) takes them in, and the
-- order every store method that changes a recipient keeps.
CREATE FUNCTION conversations_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := coalesce((SELECT r.search_text FROM recipients AS r WHERE r.id = NEW.recipient_id), '');
    RETURN NEW;
END $$;
CREATE TRIGGER conversations_search_text BEFORE INSERT OR UPDATE OF recipient_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_search_text();

CREATE FUNCTION recipients_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET search_text = NEW.search_text WHERE recipient_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER recipients_search_text AFTER UPDATE OF name, email, phone ON recipients
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email OR OLD.phone IS DISTINCT FROM NEW.phone)
    EXECUTE FUNCTION recipients_search_text();
