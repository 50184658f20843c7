package mercure

import (
	"testing"

	"github.com/google/uuid"
)

func TestURNUUID(t *testing.T) {
	t.Parallel()
	ids := []uuid.UUID{uuid.Nil, uuid.Max, uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")}
	for range 100 {
		ids = append(ids, uuid.Must(uuid.NewV7()))
	}
	for _, id := range ids {
		if got, want := urnUUID(id), "urn:uuid:"+id.String(); got != want {
			t.Fatalf("urnUUID = %q, want %q", got, want)
		}
	}
}
