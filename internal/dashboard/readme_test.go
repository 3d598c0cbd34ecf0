package dashboard

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/dashboard/catalog"
)

// TestREADMEListsRealOperations keeps the README's list of operations with
// real semantics, and its counts, in step with the code.
func TestREADMEListsRealOperations(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	must(t, err)
	readme := string(b)
	real := RealOperations()
	for _, id := range real {
		if !strings.Contains(readme, "`"+id+"`") {
			t.Errorf("README does not list %s", id)
		}
	}
	total := len(catalog.Must().Operations())
	commas := func(n int) string { return fmt.Sprintf("%d,%03d", n/1000, n%1000) }
	for _, want := range []string{fmt.Sprintf("%d have real semantics", len(real)), "the other " + commas(total-len(real)),
		commas(total) + " operations"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
}
