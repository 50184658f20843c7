//go:build !linux

package epoll

// Event is one readiness report: Fd is the descriptor given to Add, Events the flags.
type Event struct {
	Events uint32
	Fd     int32
}

// Interest and readiness flags; they mean nothing outside Linux.
const (
	In            = 0x1
	Out           = 0x4
	ReadHangup    = 0x2000
	Hangup        = 0x10
	Error         = 0x8
	EdgeTriggered = 1 << 31
)

// Poller has no implementation outside Linux: New returns ErrUnsupported.
type Poller struct{}

// New returns ErrUnsupported outside Linux.
func New() (*Poller, error) { return nil, ErrUnsupported }

// Add returns ErrUnsupported.
func (p *Poller) Add(fd int, events uint32) error { return ErrUnsupported }

// Delete returns ErrUnsupported.
func (p *Poller) Delete(fd int) error { return ErrUnsupported }

// Wait returns ErrUnsupported.
func (p *Poller) Wait(events []Event) (int, bool, error) { return 0, false, ErrUnsupported }

// WaitNow returns ErrUnsupported.
func (p *Poller) WaitNow(events []Event) (int, bool, error) { return 0, false, ErrUnsupported }

// Wake does nothing.
func (p *Poller) Wake() {}

// Close does nothing.
func (p *Poller) Close() error { return nil }
