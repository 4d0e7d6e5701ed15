-- A START that did not lift an opt-out staff made (by hand or by import)
-- is kept in the consent history too, as its own action.
ALTER TABLE recipient_consent_events DROP CONSTRAINT recipient_consent_events_action_check;
ALTER TABLE recipient_consent_events ADD CONSTRAINT recipient_consent_events_action_check
    CHECK (action IN ('opt_out', 'opt_in', 'opt_in_refused'));
