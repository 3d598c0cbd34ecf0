package config_test

import (
	"fmt"

	"github.com/grantflow/grantflow/internal/config"
)

// Every flag can be set from the environment under this name.
func ExampleEnvName() {
	fmt.Println(config.EnvName("database-url"))
	// Output: GRANTFLOW_DATABASE_URL
}
