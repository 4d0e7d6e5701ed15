DROP TABLE credit_pending;
DROP TRIGGER credit_ledger_append_only ON credit_ledger;
DROP TABLE credit_ledger;
DROP FUNCTION credit_ledger_append_only();
DROP TRIGGER locations_credit_account ON locations;
DROP FUNCTION credit_account_for_location();
DROP TABLE credit_accounts;
DROP TABLE rate_cards;
ALTER TABLE locations DROP COLUMN plan_period_months;
