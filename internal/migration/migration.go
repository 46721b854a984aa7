// Package migration loads the embedded, versioned schema steps of the
// adapters: files named "<version>_<name>.sql", applied once each, in
// version order.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string // the file's base name
	SQL     string
}

// Load returns the migrations of fsys that match pattern, in version order.
// sqlOf returns the SQL of a file: its text, or a template rendered with the
// adapter's names.
func Load(fsys fs.FS, pattern string, sqlOf func(file string) (string, error)) ([]Migration, error) {
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, file := range files {
		base := path.Base(file)
		prefix, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with a version number above 0", base)
		}
		text, err := sqlOf(file)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: text})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migration matches %s", pattern)
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].Name, ms[i].Name, ms[i].Version)
		}
	}
	return ms, nil
}

// Latest returns the highest version of ms, which Load never returns empty.
func Latest(ms []Migration) int { return ms[len(ms)-1].Version }
