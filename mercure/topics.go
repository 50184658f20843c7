package mercure

import "strconv"

// checkTopics checks the topics of a publish, or the selectors of a subscription, against
// the handler's bounds: at least one, at most MaxTopics, none empty, none longer than
// MaxTopicBytes. what names them in the answer ("topic" or "topic selector"). It returns
// the reason for a 400, or "" when they pass.
func (h *Handler) checkTopics(topics []string, what string) string {
	if len(topics) == 0 {
		return "missing " + what
	}
	if len(topics) > h.cfg.MaxTopics {
		return "too many " + what + "s: at most " + strconv.Itoa(h.cfg.MaxTopics)
	}
	for _, t := range topics {
		if t == "" {
			return "empty " + what
		}
		if len(t) > h.cfg.MaxTopicBytes {
			return what + " too long: at most " + strconv.Itoa(h.cfg.MaxTopicBytes) + " bytes"
		}
	}
	return ""
}
