ALTER TABLE imports DROP COLUMN new_group;
