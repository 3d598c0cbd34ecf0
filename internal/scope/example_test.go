package scope_test

import (
	"fmt"

	"github.com/grantflow/grantflow/internal/scope"
)

// A scope parameter as an integration sends it: parsed, checked against
// Meraki's scopes, and described for the consent page.
func ExampleParse() {
	list, err := scope.Parse("switch:config:read  dashboard:general:config:read bogus:read")
	if err != nil {
		panic(err)
	}
	fmt.Println(list)
	fmt.Println("unknown:", scope.Unknown(list))
	fmt.Println(scope.Describe("switch:config:read"))
	// Output:
	// [bogus:read dashboard:general:config:read switch:config:read]
	// unknown: [bogus:read]
	// Read switch configuration
}
