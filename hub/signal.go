package hub

// signal tells the writer there is news: through notify, SubscribeOptions.Notify, or else
// through ready, Ready's channel, both read while the caller held s.mu (so the hot path
// takes the lock once).
func signal(notify func(), ready chan struct{}) {
	if notify != nil {
		notify()
		return
	}
	select {
	case ready <- struct{}{}:
	default:
	}
}

// Ready returns a channel that receives when Drain has something to return: updates, or
// the reason the subscription ended. It panics for a subscription made with
// SubscribeOptions.Notify, whose news goes to that function alone: a writer waiting on
// this channel would wait forever.
func (s *Subscription) Ready() <-chan struct{} {
	if s.ready == nil {
		panic("hub: Ready on a subscription made with SubscribeOptions.Notify")
	}
	return s.ready
}
