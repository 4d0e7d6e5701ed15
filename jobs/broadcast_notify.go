package jobs

// BroadcastNotifier shows a broadcast's progress live: the fan-out calls
// it after each batch it messages, and the implementation (the web
// publisher) reads the counts and publishes a progress frame, at most a
// few a second per broadcast, with the last call always shown. Calls must
// not block.
type BroadcastNotifier interface {
	BroadcastProgress(orgID, broadcastID int64)
}
