DROP TABLE IF EXISTS forwarding_rules;
