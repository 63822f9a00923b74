package barrier

import (
	"testing"

	"github.com/twinvault/twinvault/internal/fipstest"
)

// The package's tests, fuzz seeds included, pass again under
// GODEBUG=fips140=only.
func TestFIPS140Only(t *testing.T) {
	fipstest.Rerun(t, "TestRoundTrip", "TestDropViewCryptoShreds", "FuzzOpen", "TestObjectRoundTrip", "TestObjectTamper", "TestFIPSModeReported")
}

func TestFIPSModeReported(t *testing.T) { fipstest.CheckEnforced(t) }
