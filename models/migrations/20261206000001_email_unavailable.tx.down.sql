-- Nothing to undo: the failed email messages were never sent, and queueing
-- them again would bring back the endless retries.
SELECT 1;
