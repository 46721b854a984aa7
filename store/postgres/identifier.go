package postgres

import (
	"fmt"
	"regexp"
	"strings"
)

// identifierPart is what a configured name part may be: a plain, unquoted
// SQL identifier. Anything else is rejected rather than escaped.
var identifierPart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxTableBytes leaves room within PostgreSQL's 63-byte identifiers for the
// suffixes of the index and migration-table names derived from a table name.
const maxTableBytes = 48

// tableName is a validated, optionally schema-qualified table name.
type tableName struct {
	schema string // "" when unqualified: the search_path decides
	table  string
}

// parseTableName validates "table" or "schema.table".
func parseTableName(option, name string) (tableName, error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return tableName{}, fmt.Errorf("postgres: %s: %q has more than two parts", option, name)
	}
	for _, p := range parts {
		if !identifierPart.MatchString(p) {
			return tableName{}, fmt.Errorf("postgres: %s: %q is not a plain identifier (letters, digits, underscores; not starting with a digit)", option, p)
		}
		if len(p) > maxTableBytes {
			return tableName{}, fmt.Errorf("postgres: %s: %q is longer than %d bytes", option, p, maxTableBytes)
		}
	}
	if len(parts) == 1 {
		return tableName{table: parts[0]}, nil
	}
	return tableName{schema: parts[0], table: parts[1]}, nil
}

// quoted returns the name as SQL: each part double-quoted.
func (n tableName) quoted() string {
	if n.schema == "" {
		return quoteIdent(n.table)
	}
	return quoteIdent(n.schema) + "." + quoteIdent(n.table)
}

// sibling returns the name of a relation in the same schema, named after
// this table with a suffix (its indexes, its migrations table).
func (n tableName) sibling(suffix string) tableName {
	return tableName{schema: n.schema, table: n.table + suffix}
}

// quoteIdent quotes a validated identifier part.
func quoteIdent(s string) string { return `"` + s + `"` }
