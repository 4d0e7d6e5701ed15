DROP TABLE import_errors;
DROP TABLE import_rows;
DROP TABLE imports;
