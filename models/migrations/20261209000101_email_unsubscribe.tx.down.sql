DELETE FROM recipient_consent_events WHERE source = 'unsubscribe';
ALTER TABLE recipient_consent_events DROP CONSTRAINT recipient_consent_events_source_check;
ALTER TABLE recipient_consent_events ADD CONSTRAINT recipient_consent_events_source_check
    CHECK (source IN ('keyword', 'receipt', 'agent', 'import'));
