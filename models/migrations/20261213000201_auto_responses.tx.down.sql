DROP TABLE IF EXISTS inbox_auto_responses;
