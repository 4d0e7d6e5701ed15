-- An import that made its own new group: when it is cancelled or fails,
-- that group goes too if nothing else was put in it (nothing of a
-- cancelled import stays behind).
ALTER TABLE imports ADD COLUMN new_group boolean NOT NULL DEFAULT false;
