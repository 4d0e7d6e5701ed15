DROP TABLE credit_alerts;
