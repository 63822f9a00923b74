package catalog

import (
	"regexp"
	"strings"
	"testing"

	"github.com/twinvault/twinvault"
)

func TestWorkspaceBucket(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	seen := map[string]string{}
	for _, id := range []string{"cookiefactory", "CookieFactory", "cookie_factory", "cookie-factory", "a", "_x_", strings.Repeat("Long_Name", 14), strings.Repeat("long-name", 14)} {
		b := workspaceBucket(id)
		if !valid.MatchString(b) {
			t.Errorf("%s: %q is not a valid bucket name", id, b)
		}
		if other, dup := seen[b]; dup {
			t.Errorf("%s and %s share the bucket %s", id, other, b)
		}
		seen[b] = id
	}
	if got := workspaceBucket("cookiefactory"); got != "twinmaker-workspace-cookiefactory-"+twinvault.Account {
		t.Errorf("a plain ID: %s", got)
	}
}
