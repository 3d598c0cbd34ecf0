package activities

import "github.com/grantflow/grantflow/internal/workflow/engine"

// dataTypes are the activities that compute on data: JSONPath, tables,
// strings, regular expressions.
func dataTypes() []engine.Type {
	return []engine.Type{
		jsonPathQuery, readTableFromJSON, readTableFromText, addRowToTable, selectFromTable,
		matchRegex, findString, string2Upper, string2Lower, trimString, replaceString, splitString,
	}
}
