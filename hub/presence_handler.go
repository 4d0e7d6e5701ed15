package hub

// HandlePresence sets the function called with a topic's members after they
// change, with the guarantees of Config.OnPresence. It exists for a handler
// that publishes through this hub (it renders presence as frames), which
// cannot be built before the hub it needs: build the hub, then the handler,
// then call HandlePresence before any subscriber joins. Changes before it
// are not reported. The handler is set once: a second call panics, as it
// would silently take presence away from the first. After Shutdown it does
// nothing.
func (h *Hub) HandlePresence(fn func(topic string, members []Member)) {
	if fn == nil {
		return
	}
	p := newPresence(fn)
	if !h.presence.CompareAndSwap(nil, p) {
		panic("hub: presence handler set twice")
	}
	h.spawn(func() { p.run(h.done) })
}
