package vault_test

import (
	"fmt"

	"github.com/grantflow/grantflow/internal/automation/vault"
)

// Associated data names the place a value belongs to; part boundaries are
// kept, so ("ab", "c") and ("a", "bc") differ.
func ExampleAD() {
	fmt.Println(vault.AD("tenant-1", "user", "alice"))
	fmt.Println(vault.AD("ab", "c") == vault.AD("a", "bc"))
	// Output:
	// 8:tenant-1|4:user|5:alice|
	// false
}
