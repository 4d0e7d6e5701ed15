DELETE FROM recipient_consent_events WHERE action = 'opt_in_refused';
ALTER TABLE recipient_consent_events DROP CONSTRAINT recipient_consent_events_action_check;
ALTER TABLE recipient_consent_events ADD CONSTRAINT recipient_consent_events_action_check
    CHECK (action IN ('opt_out', 'opt_in'));
